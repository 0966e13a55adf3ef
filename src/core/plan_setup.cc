#include "core/plan_setup.h"

#include <algorithm>
#include <optional>

#include "core/communicator.h"
#include "core/error.h"
#include "core/log.h"
#include "db/db_json.h"
#include "db/plan_from_db.h"
#include "db/tccl_xml_import.h"
#include "topo/topology.h"

namespace tccl {
namespace {

uint64_t hashText(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h | 1;  // never 0: 0 means "no database"
}

// What this rank knows about its own node: the simulated node of TCCL_SIM_TOPOLOGY, or the
// live machine (only needed when a database must be matched).
ncclResult_t describeOwnNode(ncclComm* comm, bool needSignature,
                             std::optional<NodeSignature>* sig) {
  RankInfo& me = comm->ranks[comm->rank];
  const int localRank = comm->shape.localRankOf[comm->rank];
  me.gpuIndex = localRank;
  if (!comm->env.simTopology.empty()) {
    topo::LoadedTopology loaded = topo::loadTopologyFile(comm->env.simTopology);
    if (!loaded.topology)
      return setError(ncclInvalidArgument, "TCCL_SIM_TOPOLOGY: %s", loaded.error.c_str());
    const int nGpus = static_cast<int>(loaded.topology->gpus.size());
    if (localRank >= nGpus)
      return setError(
          ncclInvalidUsage,
          "TCCL_SIM_TOPOLOGY=%s describes %d GPUs but rank %d is local rank %d of its node",
          comm->env.simTopology.c_str(), nGpus, comm->rank, localRank);
    me.numaNode = topo::gpuNuma(*loaded.topology, localRank);
    *sig = topo::signatureOf(*loaded.topology);
    INFO(kLogTccl, "rank %d plays GPU %d (NUMA %d) of simulated node '%s'", comm->rank, localRank,
         me.numaNode, loaded.topology->name.c_str());
  } else if (needSignature) {
    topo::LoadedTopology live = topo::discoverLiveTopology();
    if (live.topology) *sig = topo::signatureOf(*live.topology);
  }
  return ncclSuccess;
}

struct DbChoice {
  std::optional<db::Database> db;
  std::string label;
  std::string why;  // set when this rank cannot use the database
};

DbChoice loadDatabase(const RuntimeEnv& env) {
  DbChoice choice;
  db::LoadResult loaded;
  if (!env.dbPath.empty()) {
    choice.label = "db:" + env.dbPath;
    loaded = db::loadDatabaseFile(env.dbPath);
  } else {
    choice.label = "xml:" + env.xmlPath;
    loaded = db::importTcclXmlFile(env.xmlPath);
  }
  if (!loaded.db)
    choice.why = loaded.error;
  else
    choice.db = std::move(loaded.db);
  return choice;
}

}  // namespace

ncclResult_t setupPlan(ncclComm* comm) {
  const RuntimeEnv& env = comm->env;
  const bool wantDb = !env.dbPath.empty() || !env.xmlPath.empty();
  std::optional<NodeSignature> sig;
  TCCL_CHECK(describeOwnNode(comm, wantDb, &sig));

  DbChoice choice;
  RankInfo& me = comm->ranks[comm->rank];
  if (wantDb) {
    choice = loadDatabase(env);
    if (choice.db) {
      me.dbHash = hashText(db::toJsonText(*choice.db));
      if (!sig) {
        choice.why =
            "this node's hardware could not be discovered (set TCCL_SIM_TOPOLOGY or TCCL_DB_NODE)";
        if (!env.dbNode.empty()) sig = NodeSignature{};
      }
      if (sig) me.dbNodeType = db::matchNodeType(*choice.db, *sig, env.dbNode, &choice.why);
    }
  }
  // Everybody's GPU index, NUMA node and database match, so every rank builds the same plan.
  TCCL_CHECK(comm->bootstrap->allGather(comm->ranks.data(), sizeof(RankInfo)));

  std::string whyNot;
  if (wantDb) {
    for (const RankInfo& r : comm->ranks) {
      if (r.dbHash == 0) {
        whyNot = r.rank == comm->rank ? choice.why
                                      : "rank " + std::to_string(r.rank) + " could not load it";
        break;
      }
      if (r.dbHash != comm->ranks[0].dbHash) {
        whyNot = "ranks 0 and " + std::to_string(r.rank) + " loaded different databases";
        break;
      }
      if (r.dbNodeType < 0) {
        whyNot = r.rank == comm->rank
                     ? choice.why
                     : "the node of rank " + std::to_string(r.rank) + " matches no node type";
        break;
      }
    }
    if (whyNot.empty()) {
      db::DbPlan built =
          db::buildPlanFromDatabase(*choice.db, choice.label, comm->ranks, comm->shape);
      if (built.plan)
        comm->plan = std::move(*built.plan);
      else
        whyNot = built.whyNot;
    }
    if (!whyNot.empty()) {
      const char* var = env.dbPath.empty() ? "TCCL_XML_FILE" : "TCCL_DB";
      if (env.dbStrict)
        return setError(ncclInvalidUsage, "%s=%s does not fit this job (TCCL_DB_STRICT=1): %s", var,
                        env.dbPath.empty() ? env.xmlPath.c_str() : env.dbPath.c_str(),
                        whyNot.c_str());
      if (comm->rank == 0)
        WARN("%s=%s does not fit this job, using the default plan: %s", var,
             env.dbPath.empty() ? env.xmlPath.c_str() : env.dbPath.c_str(), whyNot.c_str());
    }
  }
  if (!wantDb || !whyNot.empty())
    comm->plan = buildDefaultPlan(comm->shape, static_cast<int>(env.nChannels));
  return ncclSuccess;
}

void logPlan(const ncclComm* comm) {
  if (!logEnabled(LogLevel::kInfo, kLogTccl)) return;
  const int nch = static_cast<int>(comm->plan.rings.size());
  for (int c = 0; c < nch; ++c) {
    const Ring& ring = comm->plan.rings[c];
    const int n = static_cast<int>(ring.order.size());
    const int pos = static_cast<int>(std::find(ring.order.begin(), ring.order.end(), comm->rank) -
                                     ring.order.begin());
    const int prev = ring.order[(pos - 1 + n) % n], next = ring.order[(pos + 1) % n];
    INFO(kLogTccl, "Channel %02d/%02d : %d -> %d -> %d recv %s send %s [plan %s]", c, nch, prev,
         comm->rank, next, describeHop(ring.hops[(pos - 1 + n) % n]).c_str(),
         describeHop(ring.hops[pos]).c_str(), comm->plan.source.c_str());
  }
}

}  // namespace tccl
