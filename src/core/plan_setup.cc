#include "core/plan_setup.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "base/log.h"
#include "base/text_file.h"
#include "core/communicator.h"
#include "core/cuda_glue.h"
#include "core/plugin_nic_setup.h"
#include "db/db_json.h"
#include "db/plan_from_db.h"
#include "db/tccl_xml_import.h"
#include "plan/baseline_plan.h"
#include "search/database_cache.h"
#include "topo/topology.h"

namespace tccl {
namespace {

uint64_t hashText(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h | 1;  // never 0: 0 means "no database"
}

// What this rank knows about its node: the simulated node of TCCL_SIM_TOPOLOGY, or the live
// machine (hwloc) when a database must be matched or its GPU placed.
struct NodeView {
  std::optional<topo::Topology> topo;  // set when this rank plays a GPU of it
  std::string topoName;                // the file name, or "live"
  std::optional<NodeSignature> sig;
  std::string whyNoTopology;
};

constexpr const char* kHostPlaysNoGpu =
    "ranks of the host backend play no GPU (TCCL_SIM_TOPOLOGY is not set)";

ncclResult_t describeOwnNode(ncclComm* comm, bool needLive, NodeView* node) {
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
    node->sig = topo::signatureOf(*loaded.topology);
    const std::string& path = comm->env.simTopology;
    node->topoName = path.substr(path.find_last_of('/') + 1);
    INFO(kLogTccl, "rank %d plays GPU %d (NUMA %d) of simulated node '%s'", comm->rank, localRank,
         me.numaNode, loaded.topology->name.c_str());
    // The file describes the node as its database was searched: the plugin's devices are
    // mapped onto its NICs, and the ones it lacks are not added to it.
    setupPluginNics(comm, &*loaded.topology, "");
    node->topo = std::move(loaded.topology);
    return ncclSuccess;
  }
  if (!needLive && !comm->netPlugin) {
    node->whyNoTopology = kHostPlaysNoGpu;
    return ncclSuccess;
  }
  topo::LoadedTopology live = topo::discoverLiveTopology();
  // Live, the plugin's NICs are part of the node, as `tccl-pathfinder --live` sees it.
  std::optional<topo::Topology> withPlugin =
      setupPluginNics(comm, live.topology ? &*live.topology : nullptr, live.error);
  if (withPlugin) live.topology = std::move(withPlugin);
  if (!needLive) {
    node->whyNoTopology = kHostPlaysNoGpu;
    return ncclSuccess;
  }
  if (!live.topology) {
    node->whyNoTopology = live.error;
    return ncclSuccess;
  }
  node->sig = topo::signatureOf(*live.topology);
  node->topoName = "live";
  const std::string busId = cudaDeviceBusId(*comm);
  if (busId.empty()) {
    node->whyNoTopology = kHostPlaysNoGpu;
    return ncclSuccess;
  }
  const std::vector<topo::Gpu>& gpus = live.topology->gpus;
  const auto it =
      std::find_if(gpus.begin(), gpus.end(), [&](const topo::Gpu& g) { return g.busId == busId; });
  if (it == gpus.end()) {
    node->whyNoTopology = "hwloc does not list this rank's GPU " + busId;
    return ncclSuccess;
  }
  me.gpuIndex = static_cast<int>(it - gpus.begin());
  me.numaNode = it->numa;
  std::snprintf(me.busId, sizeof me.busId, "%s", busId.c_str());
  // hwloc cannot tell whether the driver allows P2P; CUDA can (NCCL asks it per pair).
  live.topology->p2pSupported = cudaPeerAccessEverywhere();
  node->topo = std::move(live.topology);
  return ncclSuccess;
}

struct DbChoice {
  std::optional<db::Database> db;
  std::string label;
  std::string why;    // set when this rank cannot use the database
  uint64_t hash = 0;  // of its content: every rank must hold the same database
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

// TCCL_DB=auto: local rank 0 of each node reads the node's database from the cache or searches
// it (pathfinder::loadOrBuildDatabase) and hands it to the node's other ranks.
ncclResult_t autoDatabase(ncclComm* comm, const NodeView& node, DbChoice* choice) {
  const std::vector<int>& peers = comm->shape.nodeRanks[comm->shape.nodeOf[comm->rank]];
  const int leader = peers.front();
  std::string text;
  // Every rank of the node names the same cache file.
  const std::string dir = pathfinder::defaultCacheDirectory();
  choice->label =
      "auto:" + (dir.empty() || !node.topo ? std::string("(not cached)")
                                           : dir + "/" + pathfinder::cacheFileName(*node.topo));
  if (comm->rank == leader) {
    if (!node.topo) {
      choice->why = "it needs this node's topology, and " + node.whyNoTopology;
    } else {
      const int jobs = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
      pathfinder::AutoDatabase a =
          pathfinder::loadOrBuildDatabase(*node.topo, node.topoName, dir, jobs);
      for (const std::string& w : a.warnings) WARN("TCCL_DB=auto: %s", w.c_str());
      if (!a.db) {
        choice->why = a.error;
      } else {
        text = std::move(a.text);
        INFO(kLogInit | kLogTccl, "TCCL_DB=auto: %s the database of node '%s' in %.3f s (%s)",
             a.fromCache ? "read" : "searched", node.topo->name.c_str(), a.seconds,
             a.path.empty() ? "no cache directory: set XDG_CACHE_HOME or HOME"
             : a.fromCache  ? a.path.c_str()
                            : ("cached at " + a.path).c_str());
      }
    }
    const uint64_t size = text.size();
    for (int r : peers) {
      if (r == leader) continue;
      TCCL_CHECK(comm->bootstrap->send(r, bootstrap_tags::kAutoDbSize, &size, sizeof size));
      if (size)
        TCCL_CHECK(comm->bootstrap->send(r, bootstrap_tags::kAutoDbText, text.data(), text.size()));
    }
  } else {
    uint64_t size = 0;
    TCCL_CHECK(comm->bootstrap->recv(leader, bootstrap_tags::kAutoDbSize, &size, sizeof size));
    if (size > kMaxInputFileBytes)
      return setError(ncclSystemError, "TCCL_DB=auto: rank %d announced a %llu-byte database",
                      leader, static_cast<unsigned long long>(size));
    if (size == 0) {
      choice->why = "local rank 0 of this node (rank " + std::to_string(leader) +
                    ") has no database for it (see its log)";
      return ncclSuccess;
    }
    text.resize(size);
    TCCL_CHECK(
        comm->bootstrap->recv(leader, bootstrap_tags::kAutoDbText, text.data(), text.size()));
  }
  if (text.empty()) return ncclSuccess;
  db::LoadResult loaded = db::parseDatabase(text);
  if (!loaded.db) {
    choice->why = loaded.error;
  } else {
    choice->db = std::move(loaded.db);
    choice->hash = hashText(text);  // undated: identical nodes write identical text
  }
  return ncclSuccess;
}

// The plan without a database: NCCL's own plan for this job when every rank knows its node's
// topology (nccl_baseline.h), plain shared-memory rings otherwise.
ncclResult_t setupDefaultPlan(ncclComm* comm, const NodeView& node, const std::string& context) {
  const RuntimeEnv& env = comm->env;
  const RankInfo& me = comm->ranks[comm->rank];
  BaselineSlot mine;
  std::string why = node.whyNoTopology;
  nccl::NodeBaseline baseline;
  if (node.topo) {
    std::vector<int> gpus;
    for (int r : comm->shape.nodeRanks[comm->shape.nodeOf[comm->rank]])
      gpus.push_back(comm->ranks[r].gpuIndex);
    std::sort(gpus.begin(), gpus.end());
    if (std::adjacent_find(gpus.begin(), gpus.end()) != gpus.end()) {
      why = "ranks of this node share a GPU";
    } else {
      baseline =
          nccl::buildNodeBaseline(*node.topo, gpus, static_cast<int>(comm->shape.nodeRanks.size()),
                                  env.ncclRelease, env.ncclKnobs);
      why = baseline.unsupported;
      if (why.empty()) mine = baselineSlotOf(baseline, me.gpuIndex);
      if (why.empty() && mine.channels == 0) why = "NCCL's plan has no channel through this GPU";
    }
  }
  std::vector<BaselineSlot> slots(comm->nranks);
  slots[comm->rank] = mine;
  TCCL_CHECK(comm->bootstrap->allGather(slots.data(), sizeof(BaselineSlot)));
  std::string whyNot;
  std::optional<Plan> plan = buildBaselinePlan(comm->shape, slots, &whyNot);
  const std::string release(nccl::releaseName(env.ncclRelease));
  if (plan) {
    comm->plan = std::move(*plan);
    comm->plan.source = "default:" + release;
    if (comm->rank == 0) {
      const std::string knobs = nccl::describeKnobs(env.ncclKnobs);
      INFO(kLogInit | kLogTccl, "plan: NCCL's own plan (%s rules%s%s): %zu channel(s)%s%s",
           release.c_str(), knobs.empty() ? "" : " with ", knobs.c_str(), comm->plan.rings.size(),
           context.empty() ? "" : "; ", context.c_str());
      for (const std::string& n : baseline.notes) INFO(kLogTccl, "plan:   %s", n.c_str());
      if (baseline.channels.size() > kMaxBaselineChannels)
        INFO(kLogInit | kLogTccl, "plan: NCCL would run %zu channels; TCCL runs at most %d",
             baseline.channels.size(), kMaxBaselineChannels);
    }
    return ncclSuccess;
  }
  comm->plan = buildDefaultPlan(comm->shape, static_cast<int>(env.nChannels));
  if (comm->rank == 0)
    INFO(kLogInit | kLogTccl,
         "plan: plain shared-memory rings in rank order, not NCCL's plan (%s)%s%s",
         why.empty() ? whyNot.c_str() : why.c_str(), context.empty() ? "" : "; ", context.c_str());
  return ncclSuccess;
}

}  // namespace

ncclResult_t setupPlan(ncclComm* comm) {
  const RuntimeEnv& env = comm->env;
  const bool autoDb = env.dbPath == "auto";
  const bool wantDb = !env.dbPath.empty() || !env.xmlPath.empty();
  NodeView node;
  TCCL_CHECK(describeOwnNode(comm, wantDb || commUsesCuda(*comm), &node));

  DbChoice choice;
  RankInfo& me = comm->ranks[comm->rank];
  if (autoDb) {
    TCCL_CHECK(autoDatabase(comm, node, &choice));
  } else if (wantDb) {
    choice = loadDatabase(env);
  }
  if (choice.db) {
    me.dbHash = autoDb ? choice.hash : hashText(db::toJsonText(*choice.db));
    if (!node.sig) {
      choice.why =
          "this node's hardware could not be discovered (set TCCL_SIM_TOPOLOGY or TCCL_DB_NODE)";
      if (!env.dbNode.empty()) node.sig = NodeSignature{};
    }
    if (node.sig) me.dbNodeType = db::matchNodeType(*choice.db, *node.sig, env.dbNode, &choice.why);
  }
  // Everybody's GPU index, NUMA node and database match, so every rank builds the same plan.
  TCCL_CHECK(comm->bootstrap->allGather(comm->ranks.data(), sizeof(RankInfo)));

  const char* var = env.dbPath.empty() ? "TCCL_XML_FILE" : "TCCL_DB";
  const std::string& value = env.dbPath.empty() ? env.xmlPath : env.dbPath;
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
        if (autoDb)
          whyNot +=
              " (their nodes differ; a job over different nodes needs one database of "
              "every node type: tccl-pathfinder on each, tccl-db merge)";
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
      if (built.plan) {
        comm->plan = std::move(*built.plan);
        if (comm->rank == 0)
          INFO(kLogInit | kLogTccl, "plan: from %s=%s: %zu channel(s) [%s]", var, value.c_str(),
               comm->plan.rings.size(), comm->plan.source.c_str());
        return ncclSuccess;
      }
      whyNot = built.whyNot;
    }
    if (env.dbStrict)
      return setError(ncclInvalidUsage, "%s=%s does not fit this job (TCCL_DB_STRICT=1): %s", var,
                      value.c_str(), whyNot.c_str());
    if (comm->rank == 0)
      WARN("%s=%s does not fit this job, using the default plan: %s", var, value.c_str(),
           whyNot.c_str());
  }
  return setupDefaultPlan(
      comm, node, wantDb ? std::string(var) + "=" + value + " does not fit" : "no database");
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
