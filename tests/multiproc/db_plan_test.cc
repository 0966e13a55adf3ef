// Database plans end to end: host ranks play the GPUs of a described node (TCCL_SIM_TOPOLOGY),
// follow a database whose ring is not the default order, on 1 node and on 2 and 3 simulated
// nodes (NCCL_HOSTID), and the same with an imported TCCL XML. Checks the results of AllReduce,
// AllGather, ReduceScatter, Broadcast and Reduce, the ring read back through tcclCommGetRing,
// and the TCCL log lines.
#include <gtest/gtest.h>
#include <nccl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../common/forked_ranks.h"
#include "db/db_json.h"
#include "tccl/tccl.h"
#include "topo/topology.h"

using tccl::test::report;
using tccl::test::runForkedRanks;

namespace {

const std::string kTopology = std::string(TCCL_SOURCE_DIR) + "/pathfinder/topologies/amd-v100.json";

std::string tempPath(const std::string& name) {
  return "/tmp/tccl-dbplan-" + std::to_string(getpid()) + "-" + name;
}

tccl::Hop hop(tccl::HopKind kind, int numa = -1) {
  tccl::Hop h;
  h.kind = kind;
  h.numa = numa;
  return h;
}

// A node type for amd-v100 whose 4-GPU ring is 0 -> 2 -> 3 -> 1 (PCI order would be 0 1 2 3),
// and whose 2-GPU chain for multi-node runs 1 -> 0 (entry at GPU 1, exit at GPU 0).
std::string writeDatabase() {
  auto topo = tccl::topo::loadTopologyFile(kTopology);
  EXPECT_TRUE(topo.topology) << topo.error;
  tccl::db::Database db;
  db.provenance = {"db_plan_test", "0", "model", "2026-11-28T00:00:00Z", "amd-v100.json"};
  tccl::db::NodeType node;
  node.name = "amd-v100-test";
  node.signature = tccl::topo::signatureOf(*topo.topology);
  tccl::db::Channel ring;
  ring.order = {0, 2, 3, 1};
  ring.hops = {hop(tccl::HopKind::kHostBounce, 1), hop(tccl::HopKind::kP2pWrite),
               hop(tccl::HopKind::kHostBounce, 0), hop(tccl::HopKind::kP2pRead)};
  ring.gbps = 10;
  node.intra.push_back({{0, 1, 2, 3}, {ring}, 10});
  tccl::db::InterEntry chain;
  chain.gpus = {0, 1};
  chain.entry = hop(tccl::HopKind::kNet);
  chain.entry.nic = 0;
  chain.entry.gpuDirect = chain.entry.peerGpuDirect = true;
  chain.exit = chain.entry;
  tccl::db::Channel c;
  c.order = {1, 0};
  c.hops = {hop(tccl::HopKind::kP2pRead)};
  c.gbps = 9;
  chain.channels = {c};
  chain.gbps = 9;
  node.inter.push_back(chain);
  db.nodes.push_back(node);
  const std::string path = tempPath("db.json");
  std::ofstream(path) << tccl::db::toJsonText(db);
  return path;
}

std::string writeXml() {
  const std::string path = tempPath("tccl.xml");
  std::ofstream(path) << R"(<?xml version="1.0"?>
<root>
  <metadata num_gpus="4" num_numa="4" num_bits_idx="2"/>
  <intra>
    <subset gpus="15">
      <transfers gbps="20">
        <transfer type="GPU_WRITE_GPUMEM_KERNEL" src_idx="0" dst_idx="2"/>
        <transfer type="GPU_WRITE_GPUMEM_KERNEL" src_idx="2" dst_idx="1"/>
        <transfer type="GPU_WRITE_GPUMEM_KERNEL" src_idx="1" dst_idx="3"/>
        <transfer type="GPU_WRITE_GPUMEM_KERNEL" src_idx="3" dst_idx="0"/>
      </transfers>
    </subset>
  </intra>
  <inter/>
</root>
)";
  return path;
}

// Rotates `ring` so that it starts at its smallest element: rings are equal up to rotation.
std::vector<int> canonical(std::vector<int> ring) {
  auto it = std::min_element(ring.begin(), ring.end());
  std::rotate(ring.begin(), it, ring.end());
  return ring;
}

// Every rank: init, check the plan read back, run the five collectives, check the results.
int rankBody(int rank, int n, const ncclUniqueId& id, int fd, const std::vector<int>& wantRing,
             const std::string& wantSource) {
  ncclComm_t comm;
  if (ncclCommInitRank(&comm, n, id, rank) != ncclSuccess) {
    report(fd, std::string("init: ") + ncclGetLastError(nullptr));
    return 1;
  }
  const char* source = nullptr;
  tcclCommGetPlanSource(comm, &source);
  tcclRing_t ring;
  if (tcclCommGetRing(comm, 0, &ring) != ncclSuccess) return 2;
  std::vector<int> got(ring.order, ring.order + ring.nRanks);
  std::ostringstream s;
  for (int r : got) s << r << " ";
  report(fd, "RING " + s.str() + "SOURCE " + source);
  if (canonical(got) != canonical(wantRing)) return 3;
  if (std::string(source).rfind(wantSource, 0) != 0) return 4;
  const size_t count = 1000;
  std::vector<int> in(count * n), out(count * n);
  for (size_t i = 0; i < in.size(); ++i) in[i] = rank * 10 + static_cast<int>(i % 7);
  const int rankSum = 10 * n * (n - 1) / 2;
  auto fail = [&](const char* what) {
    report(fd, std::string("wrong ") + what);
    return 5;
  };
  if (ncclAllReduce(in.data(), out.data(), count, ncclInt, ncclSum, comm, nullptr) != ncclSuccess)
    return 6;
  for (size_t i = 0; i < count; ++i)
    if (out[i] != rankSum + n * static_cast<int>(i % 7)) return fail("allreduce");
  if (ncclAllGather(in.data(), out.data(), count, ncclInt, comm, nullptr) != ncclSuccess) return 6;
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count; ++i)
      if (out[r * count + i] != r * 10 + static_cast<int>(i % 7)) return fail("allgather");
  if (ncclReduceScatter(in.data(), out.data(), count, ncclInt, ncclSum, comm, nullptr) !=
      ncclSuccess)
    return 6;
  for (size_t i = 0; i < count; ++i)
    if (out[i] != rankSum + n * static_cast<int>((rank * count + i) % 7))
      return fail("reducescatter");
  const int root = n - 1;
  if (ncclBroadcast(in.data(), out.data(), count, ncclInt, root, comm, nullptr) != ncclSuccess)
    return 6;
  for (size_t i = 0; i < count; ++i)
    if (out[i] != root * 10 + static_cast<int>(i % 7)) return fail("broadcast");
  if (ncclReduce(in.data(), out.data(), count, ncclInt, ncclSum, 1 % n, comm, nullptr) !=
      ncclSuccess)
    return 6;
  if (rank == 1 % n)
    for (size_t i = 0; i < count; ++i)
      if (out[i] != rankSum + n * static_cast<int>(i % 7)) return fail("reduce");
  ncclCommDestroy(comm);
  return 0;
}

void runJob(int nodes, int perNode, const std::string& var, const std::string& file,
            const std::vector<int>& wantRing, const std::string& wantSource) {
  const int n = nodes * perNode;
  const std::string logPattern = tempPath("log.%p");
  auto out = runForkedRanks(
      n,
      [&](int rank, int nr, const ncclUniqueId& id, int fd) {
        return rankBody(rank, nr, id, fd, wantRing, wantSource);
      },
      [&](int rank) {
        setenv("TCCL_SIM_TOPOLOGY", kTopology.c_str(), 1);
        setenv(var.c_str(), file.c_str(), 1);
        setenv("NCCL_HOSTID", ("node" + std::to_string(rank / perNode)).c_str(), 1);
        setenv("NCCL_DEBUG", "INFO", 1);
        setenv("NCCL_DEBUG_SUBSYS", "TCCL", 1);
        setenv("NCCL_DEBUG_FILE", logPattern.c_str(), 1);
    // The forked child inherits the parent's logging settings: reread them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        ncclResetDebugInit();
#pragma GCC diagnostic pop
      },
      120);
  ASSERT_EQ(out.size(), static_cast<size_t>(n));
  const int m = static_cast<int>(wantRing.size());
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(out[r].exitCode, 0) << "rank " << r << ": " << out[r].report;
    // The log names this rank's neighbours on the database's ring.
    const int pos =
        static_cast<int>(std::find(wantRing.begin(), wantRing.end(), r) - wantRing.begin());
    const std::string want = std::to_string(wantRing[(pos - 1 + m) % m]) + " -> " +
                             std::to_string(r) + " -> " + std::to_string(wantRing[(pos + 1) % m]);
    bool found = false;
    // Log files are per process: scan all of this job's.
    std::string cmd = "cat " + tempPath("log.") + "* 2>/dev/null";
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char line[1024];
      while (fgets(line, sizeof(line), p))
        if (strstr(line, ("Channel 00/01 : " + want + " ").c_str()) &&
            strstr(line, ("[plan " + wantSource).c_str()))
          found = true;
      pclose(p);
    }
    EXPECT_TRUE(found) << "no log line with '" << want << "' and the plan source for rank " << r;
  }
  if (!getenv("TCCL_TEST_KEEP")) {  // keep the logs for debugging
    std::string cleanup = "rm -f " + tempPath("log.") + "*";
    (void)!system(cleanup.c_str());
  }
}

}  // namespace

TEST(DbPlan, OneNodeFollowsTheDatabaseRing) {
  const std::string db = writeDatabase();
  runJob(1, 4, "TCCL_DB", db, {0, 2, 3, 1}, "db:");
  unlink(db.c_str());
}

TEST(DbPlan, TwoSimulatedNodesChainTheirNodes) {
  const std::string db = writeDatabase();
  runJob(2, 2, "TCCL_DB", db, {1, 0, 3, 2}, "db:");
  unlink(db.c_str());
}

TEST(DbPlan, ThreeSimulatedNodesChainTheirNodes) {
  const std::string db = writeDatabase();
  runJob(3, 2, "TCCL_DB", db, {1, 0, 3, 2, 5, 4}, "db:");
  unlink(db.c_str());
}

TEST(DbPlan, ImportedTcclXmlFollowsItsRing) {
  const std::string xml = writeXml();
  runJob(1, 4, "TCCL_XML_FILE", xml, {0, 2, 1, 3}, "xml:");
  unlink(xml.c_str());
}

// A database that does not fit: one WARN and the default plan, or an init error when strict.
TEST(DbPlan, MismatchFallsBackOrFailsWhenStrict) {
  const std::string bad = tempPath("bad.json");
  std::ofstream(bad) << "{\"version\": 1, \"nodes\": [";
  for (int strict = 0; strict < 2; ++strict) {
    auto out = runForkedRanks(
        2,
        [&](int rank, int n, const ncclUniqueId& id, int fd) {
          ncclComm_t comm;
          ncclResult_t res = ncclCommInitRank(&comm, n, id, rank);
          if (strict) {
            report(fd, ncclGetLastError(nullptr));
            return res == ncclInvalidUsage ? 0 : 1;
          }
          if (res != ncclSuccess) return 2;
          const char* source = nullptr;
          tcclCommGetPlanSource(comm, &source);
          const std::string plan = source;  // lives only as long as the communicator
          report(fd, plan);
          ncclCommDestroy(comm);
          return plan.rfind("default", 0) == 0 ? 0 : 3;
        },
        [&](int) {
          setenv("TCCL_DB", bad.c_str(), 1);
          setenv("TCCL_SIM_TOPOLOGY", kTopology.c_str(), 1);
          if (strict) setenv("TCCL_DB_STRICT", "1", 1);
        });
    ASSERT_EQ(out.size(), 2u);
    for (auto& o : out) EXPECT_EQ(o.exitCode, 0) << "strict=" << strict << ": " << o.report;
    if (strict) {
      EXPECT_NE(out[0].report.find("TCCL_DB_STRICT"), std::string::npos) << out[0].report;
    }
  }
  unlink(bad.c_str());
}
