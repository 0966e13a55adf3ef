// The plan without a database, end to end: host ranks play the GPUs of a shipped node
// (TCCL_SIM_TOPOLOGY), on one node and on two simulated nodes (NCCL_HOSTID); the communicator's
// rings must be NCCL's own plan for the job (nccl_baseline.h), hop for hop, and an AllReduce
// over them must be right. TCCL_DB=auto builds its database once, reads it back from the cache,
// and rebuilds a corrupt cache file.
#include <gtest/gtest.h>
#include <nccl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "../common/forked_ranks.h"
#include "plan/nccl_baseline.h"
#include "tccl/tccl.h"
#include "topo/topology.h"

using tccl::test::report;
using tccl::test::runForkedRanks;

namespace {

std::string topologyFile(const std::string& name) {
  return std::string(TCCL_SOURCE_DIR) + "/pathfinder/topologies/" + name + ".json";
}

std::string hopText(int kind, int numa) {
  return std::to_string(kind) + "@" + std::to_string(numa);
}

// What the rank sees: "<source>\n" then one line per channel "r:hop r:hop ...".
std::string describeComm(ncclComm_t comm) {
  std::ostringstream out;
  const char* source = nullptr;
  tcclCommGetPlanSource(comm, &source);
  out << source << "\n";
  int channels = 0;
  tcclCommGetChannelCount(comm, &channels);
  static tcclRing_t ring;
  for (int c = 0; c < channels; ++c) {
    tcclCommGetRing(comm, c, &ring);
    for (int i = 0; i < ring.nRanks; ++i)
      out << ring.order[i] << ":" << hopText(ring.hops[i].kind, ring.hops[i].numaNode) << " ";
    out << "\n";
  }
  return out.str();
}

// The same text computed from the NCCL baseline: node n's local rank l plays GPU l.
std::string expectedPlan(const std::string& topo, int nodes, int perNode) {
  tccl::topo::LoadedTopology t = tccl::topo::loadTopologyFile(topologyFile(topo));
  EXPECT_TRUE(t.topology) << t.error;
  std::vector<int> gpus(perNode);
  std::iota(gpus.begin(), gpus.end(), 0);
  const tccl::nccl::NodeBaseline b =
      tccl::nccl::buildNodeBaseline(*t.topology, gpus, nodes, tccl::nccl::installedRelease(), {});
  std::ostringstream out;
  out << "default:" << tccl::nccl::releaseName(tccl::nccl::installedRelease()) << "\n";
  for (const tccl::nccl::ChannelBaseline& ch : b.channels) {
    for (int n = 0; n < nodes; ++n)
      for (size_t i = 0; i < ch.order.size(); ++i) {
        const tccl::Hop& h = nodes > 1 && i + 1 == ch.order.size() ? ch.exit : ch.hops[i];
        out << n * perNode + ch.order[i] << ":" << hopText(static_cast<int>(h.kind), h.numa) << " ";
      }
    out << "\n";
  }
  return out.str();
}

struct JobResult {
  std::vector<tccl::test::RankOutcome> ranks;
  std::string log;  // every rank's NCCL_DEBUG output
};

JobResult runJob(int nodes, int perNode,
                 const std::vector<std::pair<std::string, std::string>>& env) {
  const std::string logs = "/tmp/tccl-defplan-" + std::to_string(getpid()) + "-log.";
  JobResult r;
  r.ranks = runForkedRanks(
      nodes * perNode,
      [&](int rank, int n, const ncclUniqueId& id, int fd) {
        ncclComm_t comm;
        if (ncclCommInitRank(&comm, n, id, rank) != ncclSuccess) {
          report(fd, ncclGetLastError(nullptr));
          return 1;
        }
        report(fd, describeComm(comm));
        std::vector<int> buf(1000);
        std::iota(buf.begin(), buf.end(), rank);
        if (ncclAllReduce(buf.data(), buf.data(), buf.size(), ncclInt32, ncclSum, comm, nullptr) !=
            ncclSuccess)
          return 2;
        for (size_t i = 0; i < buf.size(); ++i)
          if (buf[i] != n * static_cast<int>(i) + n * (n - 1) / 2) return 3;
        ncclCommDestroy(comm);
        return 0;
      },
      [&](int rank) {
        for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        setenv("NCCL_HOSTID", ("node" + std::to_string(rank / perNode)).c_str(), 1);
        setenv("NCCL_DEBUG", "INFO", 1);
        setenv("NCCL_DEBUG_SUBSYS", "INIT,TCCL", 1);
        setenv("NCCL_DEBUG_FILE", (logs + "%p").c_str(), 1);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        ncclResetDebugInit();
#pragma GCC diagnostic pop
      },
      120);
  std::string cmd = "cat " + logs + "* 2>/dev/null; rm -f " + logs + "*";
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char line[2048];
    while (fgets(line, sizeof line, p)) r.log += line;
    pclose(p);
  }
  return r;
}

void expectBaseline(const std::string& topo, int nodes, int perNode) {
  SCOPED_TRACE(topo + " " + std::to_string(nodes) + "x" + std::to_string(perNode));
  JobResult job = runJob(nodes, perNode, {{"TCCL_SIM_TOPOLOGY", topologyFile(topo)}});
  const std::string want = expectedPlan(topo, nodes, perNode);
  ASSERT_EQ(job.ranks.size(), static_cast<size_t>(nodes * perNode));
  for (size_t r = 0; r < job.ranks.size(); ++r) {
    EXPECT_EQ(job.ranks[r].exitCode, 0) << "rank " << r << ": " << job.ranks[r].report;
    EXPECT_EQ(job.ranks[r].report, want + "\n") << "rank " << r;  // report() ends a line
  }
  EXPECT_NE(job.log.find("plan: NCCL's own plan"), std::string::npos) << job.log;
}

TEST(DefaultPlan, IsNcclsPlanOnEveryShippedNodeAlone) {
  expectBaseline("amd-v100", 1, 4);
  expectBaseline("amd-3090", 1, 4);
  expectBaseline("intel-v100", 1, 4);
  expectBaseline("rtx4090-8x-2s4n", 1, 8);
  expectBaseline("switch-8x-2s", 1, 8);
}

TEST(DefaultPlan, IsNcclsPlanOnTwoNodes) {
  expectBaseline("amd-v100", 2, 4);
  expectBaseline("intel-v100", 2, 4);  // NCCL's two rings run in opposite directions
  expectBaseline("rtx4090-8x-2s4n", 2, 2);
  expectBaseline("switch-8x-2s", 2, 2);
}

TEST(DefaultPlan, HonoursNcclKnobs) {
  JobResult job = runJob(1, 4,
                         {{"TCCL_SIM_TOPOLOGY", topologyFile("amd-v100")},
                          {"NCCL_P2P_LEVEL", "SYS"},
                          {"NCCL_MAX_NCHANNELS", "1"}});
  for (const auto& r : job.ranks) {
    EXPECT_EQ(r.exitCode, 0) << r.report;
    // One channel of P2P writes (kind 0) all round.
    EXPECT_NE(r.report.find("\n0:0@-1 1:0@-1 2:0@-1 3:0@-1 \n"), std::string::npos) << r.report;
    EXPECT_EQ(std::count(r.report.begin(), r.report.end(), '\n'), 3) << r.report;
  }
  job = runJob(1, 2, {{"TCCL_SIM_TOPOLOGY", topologyFile("amd-v100")}, {"NCCL_P2P_LEVEL", "sys"}});
  for (const auto& r : job.ranks) {
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.report.find("NCCL_P2P_LEVEL=sys"), std::string::npos) << r.report;
  }
}

TEST(DefaultPlan, WithoutATopologyStaysPlainSharedMemory) {
  JobResult job = runJob(1, 3, {});
  for (const auto& r : job.ranks) {
    EXPECT_EQ(r.exitCode, 0) << r.report;
    EXPECT_EQ(r.report, "default\n0:4@-1 1:4@-1 2:4@-1 \n\n");
  }
  EXPECT_NE(job.log.find("plan: plain shared-memory rings"), std::string::npos) << job.log;
}

TEST(AutoDatabase, BuildsCachesReusesAndRepairs) {
  const std::string cache = "/tmp/tccl-auto-" + std::to_string(getpid());
  std::filesystem::remove_all(cache);
  const std::vector<std::pair<std::string, std::string>> env{
      {"TCCL_SIM_TOPOLOGY", topologyFile("intel-v100")},
      {"TCCL_DB", "auto"},
      {"XDG_CACHE_HOME", cache}};
  auto check = [&](const JobResult& job, const char* how) {
    ASSERT_EQ(job.ranks.size(), 4u);
    for (const auto& r : job.ranks) {
      EXPECT_EQ(r.exitCode, 0) << r.report;
      EXPECT_EQ(r.report.rfind("auto:" + cache + "/tccl/tccl-db-", 0), 0u) << r.report;
      EXPECT_EQ(r.report, job.ranks[0].report);  // one database, one plan, on every rank
    }
    EXPECT_NE(job.log.find(std::string("TCCL_DB=auto: ") + how), std::string::npos) << job.log;
    // Only local rank 0 touches the cache; the others receive its database.
    const std::string line = "INFO TCCL_DB=auto: ";
    const size_t at = job.log.find(line);
    EXPECT_NE(at, std::string::npos) << job.log;
    EXPECT_EQ(job.log.find(line, at + 1), std::string::npos) << job.log;
  };
  JobResult first = runJob(1, 4, env);
  check(first, "searched the database");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(cache + "/tccl")) files.push_back(e);
  ASSERT_EQ(files.size(), 1u);  // and no temporary file left behind
  JobResult second = runJob(1, 4, env);
  check(second, "read the database");
  EXPECT_EQ(second.ranks[0].report, first.ranks[0].report);
  std::ofstream(files[0]) << "{\"version\": 1, \"nodes\": [";  // truncated by a crash
  JobResult third = runJob(1, 4, env);
  EXPECT_NE(third.log.find("cannot be used"), std::string::npos) << third.log;
  check(third, "searched the database");
  JobResult fourth = runJob(1, 4, env);
  check(fourth, "read the database");
  std::filesystem::remove_all(cache);
}

TEST(AutoDatabase, WithoutATopologyFallsBackOrFailsWhenStrict) {
  JobResult job = runJob(1, 2, {{"TCCL_DB", "auto"}});
  for (const auto& r : job.ranks) {
    EXPECT_EQ(r.exitCode, 0) << r.report;
    EXPECT_EQ(r.report.rfind("default\n", 0), 0u) << r.report;
  }
  EXPECT_NE(job.log.find("TCCL_DB=auto does not fit this job"), std::string::npos) << job.log;
  job = runJob(1, 2, {{"TCCL_DB", "auto"}, {"TCCL_DB_STRICT", "1"}});
  for (const auto& r : job.ranks) {
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.report.find("TCCL_DB_STRICT"), std::string::npos) << r.report;
  }
}

}  // namespace
