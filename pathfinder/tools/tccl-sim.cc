// tccl-sim: the modelled time and bus bandwidth of a collective with the NCCL-like default
// plan and with the path database's plan, side by side.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "db/db_json.h"
#include "model/collective_time.h"
#include "model/model_profiler.h"
#include "model/nccl_like_plan.h"
#include "search/database_builder.h"
#include "topo/topology.h"

namespace pf = tccl::pathfinder;

namespace {

const tccl::db::NodeType* findNode(const tccl::db::Database& db, const tccl::topo::Topology& topo) {
  const tccl::NodeSignature sig = tccl::topo::signatureOf(topo);
  for (const tccl::db::NodeType& n : db.nodes)
    if (n.signature == sig) return &n;
  return tccl::db::findNodeType(db, topo.name);
}

// The database's plan for one node of the job, or an explanation of why there is none.
std::optional<pf::NodePlan> databasePlan(const tccl::db::NodeType& node, int gpus, bool multiNode,
                                         std::string* why) {
  std::vector<int> all(gpus);
  for (int g = 0; g < gpus; ++g) all[g] = g;
  pf::NodePlan plan;
  if (!multiNode) {
    for (const tccl::db::IntraEntry& e : node.intra)
      if (e.gpus == all) {
        plan.channels = e.channels;
        return plan;
      }
    *why = "the database has no intra-node ring over all " + std::to_string(gpus) + " GPUs";
    return std::nullopt;
  }
  const tccl::db::InterEntry* best = nullptr;
  for (const tccl::db::InterEntry& e : node.inter)
    if (e.gpus == all && (!best || e.gbps > best->gbps)) best = &e;
  if (!best) {
    *why = "the database has no inter-node chain over all " + std::to_string(gpus) + " GPUs";
    return std::nullopt;
  }
  plan.channels = best->channels;
  plan.chained = true;
  plan.entry = best->entry;
  plan.exit = best->exit;
  return plan;
}

std::string describePlan(const pf::NodePlan& plan) {
  std::string s;
  for (const tccl::db::Channel& ch : plan.channels) {
    if (!s.empty()) s += " | ";
    if (plan.chained) s += "[" + tccl::describeHop(plan.entry) + "] ";
    for (size_t i = 0; i < ch.order.size(); ++i) {
      s += std::to_string(ch.order[i]);
      if (i < ch.hops.size()) s += " -[" + tccl::describeHop(ch.hops[i]) + "]-> ";
    }
    if (plan.chained)
      s += " [" + tccl::describeHop(plan.exit) + "]";
    else
      s += std::to_string(ch.order.front());
  }
  return s;
}

double stepLatencyUs(const pf::NodePlan& plan, bool multiNode) {
  double worst = 0;
  for (const pf::Transfer& t : pf::planTransfers(plan))
    worst = std::max(worst, pf::hopLatencyUs(t.hop));
  (void)multiNode;
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tccl-sim: modelled collective time, NCCL-like default plan vs the database plan"};
  std::string topologyFile, dbFile, collName;
  int nodes = 1;
  uint64_t bytes = 0;
  bool asJson = false;
  app.add_option("--topology", topologyFile, "topology file")->required()->check(CLI::ExistingFile);
  app.add_option("--db", dbFile, "path database from tccl-pathfinder")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--nodes", nodes, "number of identical nodes")->check(CLI::PositiveNumber);
  app.add_option("--coll", collName, "allreduce|allgather|reducescatter|broadcast|reduce")
      ->required()
      ->check(CLI::IsMember({"allreduce", "allgather", "reducescatter", "broadcast", "reduce"}));
  app.add_option("--bytes", bytes, "message size (nccl-tests 'size'); K/M/G suffixes allowed")
      ->required()
      ->transform(CLI::AsSizeValue(false));
  app.add_flag("--json", asJson, "print one JSON object");
  CLI11_PARSE(app, argc, argv);

  tccl::topo::LoadedTopology loaded = tccl::topo::loadTopologyFile(topologyFile);
  if (!loaded.topology) {
    std::fprintf(stderr, "tccl-sim: %s\n", loaded.error.c_str());
    return 2;
  }
  const tccl::topo::Topology& topo = *loaded.topology;
  tccl::db::LoadResult db = tccl::db::loadDatabaseFile(dbFile);
  if (!db.db) {
    std::fprintf(stderr, "tccl-sim: %s: %s\n", dbFile.c_str(), db.error.c_str());
    return 2;
  }
  const tccl::db::NodeType* node = findNode(*db.db, topo);
  if (!node) {
    std::fprintf(stderr, "tccl-sim: %s has no node type for topology %s (signature: %s)\n",
                 dbFile.c_str(), topo.name.c_str(),
                 tccl::describeSignature(tccl::topo::signatureOf(topo)).c_str());
    return 2;
  }
  const int gpus = static_cast<int>(topo.gpus.size());
  const bool multiNode = nodes > 1;
  if (multiNode && topo.nics.empty()) {
    std::fprintf(stderr, "tccl-sim: %s has no NIC, so it cannot be chained over %d nodes\n",
                 topo.name.c_str(), nodes);
    return 2;
  }
  const int ranks = nodes * gpus;
  if (ranks < 2) {
    std::fprintf(stderr, "tccl-sim: a collective needs at least 2 ranks\n");
    return 2;
  }
  std::string why;
  std::optional<pf::NodePlan> planned = databasePlan(*node, gpus, multiNode, &why);
  if (!planned) {
    std::fprintf(stderr, "tccl-sim: %s: %s\n", dbFile.c_str(), why.c_str());
    return 2;
  }
  const pf::Collective coll = *pf::parseCollective(collName);
  pf::ModelProfiler profiler(topo);
  const pf::NodePlan defaults = pf::ncclLikePlan(topo, multiNode);
  const double defaultGbps = pf::planGbps(profiler, defaults);
  const double planGbps = pf::planGbps(profiler, *planned);
  const pf::CollectiveTiming d = pf::ringCollectiveTime(
      coll, ranks, static_cast<double>(bytes), defaultGbps, stepLatencyUs(defaults, multiNode));
  const pf::CollectiveTiming p = pf::ringCollectiveTime(
      coll, ranks, static_cast<double>(bytes), planGbps, stepLatencyUs(*planned, multiNode));
  const double ratio = d.busbwGbps > 0 ? p.busbwGbps / d.busbwGbps : 0;

  if (asJson) {
    nlohmann::json j = {{"topology", topo.name},
                        {"nodes", nodes},
                        {"ranks", ranks},
                        {"coll", collName},
                        {"bytes", bytes},
                        {"default_gbps", defaultGbps},
                        {"plan_gbps", planGbps},
                        {"default_time_s", d.seconds},
                        {"plan_time_s", p.seconds},
                        {"default_busbw", d.busbwGbps},
                        {"plan_busbw", p.busbwGbps},
                        {"ratio", ratio},
                        {"default_plan", describePlan(defaults)},
                        {"db_plan", describePlan(*planned)}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("tccl-sim: %s, %d node(s) x %d GPUs = %d ranks, %s, %llu bytes (model)\n",
              topo.name.c_str(), nodes, gpus, ranks, collName.c_str(),
              static_cast<unsigned long long>(bytes));
  std::printf("  default plan:  %s\n  database plan: %s\n", describePlan(defaults).c_str(),
              describePlan(*planned).c_str());
  std::printf("%-22s %14s %14s %8s\n", "", "default", "database", "ratio");
  std::printf("%-22s %14.2f %14.2f %8.2f\n", "node rate (GB/s)", defaultGbps, planGbps,
              defaultGbps > 0 ? planGbps / defaultGbps : 0);
  std::printf("%-22s %14.3f %14.3f %8.2f\n", "time (ms)", d.seconds * 1e3, p.seconds * 1e3,
              p.seconds > 0 ? d.seconds / p.seconds : 0);
  std::printf("%-22s %14.2f %14.2f %8.2f\n", "algbw (GB/s)", d.algbwGbps, p.algbwGbps,
              d.algbwGbps > 0 ? p.algbwGbps / d.algbwGbps : 0);
  std::printf("%-22s %14.2f %14.2f %8.2f\n", "busbw (GB/s)", d.busbwGbps, p.busbwGbps, ratio);
  return 0;
}
