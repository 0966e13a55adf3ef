// Database -> Plan for one job: intra-node rings for one node, node chains joined by the
// bottleneck DP for several, trees from the chains.
#include "db/plan_from_db.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "db/node_chain_dp.h"
#include "plan/tree_builder.h"

namespace tccl::db {
namespace {

struct NodeUse {
  const NodeType* type = nullptr;
  std::vector<int> subset;       // GPU indices in use, ascending
  std::map<int, int> rankOfGpu;  // GPU index -> global rank
};

// Checks what the ranks say about their nodes; fills `uses` or returns why not.
std::string describeNodes(const Database& db, const std::vector<RankInfo>& ranks,
                          const JobShape& shape, std::vector<NodeUse>* uses) {
  if (static_cast<int>(ranks.size()) != shape.nRanks || shape.nodeRanks.empty())
    return "rank info and job shape disagree";
  for (size_t n = 0; n < shape.nodeRanks.size(); ++n) {
    NodeUse use;
    int typeIndex = -2;
    for (int r : shape.nodeRanks[n]) {
      if (r < 0 || r >= shape.nRanks) return "job shape names rank " + std::to_string(r);
      const RankInfo& info = ranks[r];
      if (info.dbNodeType < 0 || info.dbNodeType >= static_cast<int>(db.nodes.size()))
        return "node " + std::to_string(n) + " (rank " + std::to_string(r) +
               ") matches no node type of the database";
      if (typeIndex != -2 && info.dbNodeType != typeIndex)
        return "ranks of node " + std::to_string(n) + " disagree on its node type";
      typeIndex = info.dbNodeType;
      const NodeType& type = db.nodes[typeIndex];
      if (info.gpuIndex < 0 || info.gpuIndex >= static_cast<int>(type.signature.gpus.size()))
        return "rank " + std::to_string(r) + " uses GPU " + std::to_string(info.gpuIndex) +
               ", node type '" + type.name + "' has " + std::to_string(type.signature.gpus.size()) +
               " GPUs";
      if (!use.rankOfGpu.emplace(info.gpuIndex, r).second)
        return "ranks " + std::to_string(use.rankOfGpu[info.gpuIndex]) + " and " +
               std::to_string(r) + " share GPU " + std::to_string(info.gpuIndex) + " of node " +
               std::to_string(n);
      use.subset.push_back(info.gpuIndex);
    }
    if (typeIndex < 0) return "node " + std::to_string(n) + " has no ranks";
    use.type = &db.nodes[typeIndex];
    std::sort(use.subset.begin(), use.subset.end());
    uses->push_back(std::move(use));
  }
  return "";
}

Ring intraRing(const Channel& ch, const NodeUse& use) {
  Ring ring;
  for (int g : ch.order) ring.order.push_back(use.rankOfGpu.at(g));
  ring.hops = ch.hops;
  if (ring.order.size() == 1) ring.hops = {Hop{}};  // a lone rank: the hop is never used
  return ring;
}

}  // namespace

namespace {

DbPlan buildPlan(const Database& db, const std::string& sourceLabel,
                 const std::vector<RankInfo>& ranks, const JobShape& shape) {
  DbPlan out;
  std::vector<NodeUse> uses;
  out.whyNot = describeNodes(db, ranks, shape, &uses);
  if (!out.whyNot.empty()) return out;

  Plan plan;
  plan.source = sourceLabel;
  if (uses.size() == 1) {
    const NodeUse& use = uses[0];
    const IntraEntry* entry = nullptr;
    for (const IntraEntry& e : use.type->intra)
      if (e.gpus == use.subset) entry = &e;
    if (!entry) {
      out.whyNot =
          "node type '" + use.type->name + "' has no ring for GPU subset " + listGpus(use.subset);
      return out;
    }
    for (const Channel& ch : entry->channels) plan.rings.push_back(intraRing(ch, use));
    plan.trees = buildTreesFromChains({plan.rings[0].order}, shape.nRanks);
    out.plan = std::move(plan);
    return out;
  }

  // Several nodes: every node's candidates are its inter entries for the subset in use.
  std::vector<const NodeType*> types;
  std::vector<std::vector<int>> subsets;
  for (const NodeUse& use : uses) {
    types.push_back(use.type);
    subsets.push_back(use.subset);
  }
  const std::vector<const InterEntry*> chosen =
      chooseInterEntries(types, subsets, nullptr, &out.whyNot);
  if (chosen.empty()) return out;
  size_t nChannels = 0;
  for (const InterEntry* e : chosen) nChannels = std::max(nChannels, e->channels.size());
  // Channel c takes chain c of each node (cycling when a node has fewer chains); node i's
  // exit hop carries the last rank of node i to the first rank of node i+1.
  for (size_t c = 0; c < nChannels; ++c) {
    Ring ring;
    for (size_t n = 0; n < uses.size(); ++n) {
      const InterEntry& e = *chosen[n];
      const Channel& ch = e.channels[c % e.channels.size()];
      for (size_t k = 0; k < ch.order.size(); ++k) {
        ring.order.push_back(uses[n].rankOfGpu.at(ch.order[k]));
        ring.hops.push_back(k + 1 < ch.order.size() ? ch.hops[k] : e.exit);
      }
    }
    plan.rings.push_back(std::move(ring));
  }
  std::vector<std::vector<int>> chains;
  for (size_t n = 0; n < uses.size(); ++n) {
    std::vector<int> chain;
    for (int g : chosen[n]->channels[0].order) chain.push_back(uses[n].rankOfGpu.at(g));
    chains.push_back(std::move(chain));
  }
  plan.trees = buildTreesFromChains(chains, shape.nRanks);
  out.plan = std::move(plan);
  return out;
}

}  // namespace

std::vector<const InterEntry*> chooseInterEntries(const std::vector<const NodeType*>& types,
                                                  const std::vector<std::vector<int>>& subsets,
                                                  double* gbps, std::string* whyNot) {
  std::vector<std::vector<const InterEntry*>> candidates(types.size());
  std::vector<std::vector<ChainOption>> options(types.size());
  for (size_t n = 0; n < types.size(); ++n) {
    for (const InterEntry& e : types[n]->inter) {
      if (e.gpus != subsets[n]) continue;
      candidates[n].push_back(&e);
      options[n].push_back({entryCode(e.entry), exitCode(e.exit), e.gbps});
    }
    if (candidates[n].empty()) {
      *whyNot = "node type '" + types[n]->name + "' (node " + std::to_string(n) +
                ") has no inter-node chain for GPU subset " + listGpus(subsets[n]);
      return {};
    }
  }
  const ChainChoice choice = chooseNodeChains(options);
  if (choice.option.empty()) {
    *whyNot =
        "no combination of inter-node chains closes a ring: the nodes' entry and exit "
        "hops never meet";
    return {};
  }
  if (gbps) *gbps = choice.gbps;
  std::vector<const InterEntry*> chosen(types.size());
  for (size_t n = 0; n < types.size(); ++n) chosen[n] = candidates[n][choice.option[n]];
  return chosen;
}

DbPlan buildPlanFromDatabase(const Database& db, const std::string& sourceLabel,
                             const std::vector<RankInfo>& ranks, const JobShape& shape) {
  try {
    return buildPlan(db, sourceLabel, ranks, shape);
  } catch (const std::out_of_range&) {
    // Only reachable with a database that skipped validation (a ring names a GPU not in use).
    DbPlan out;
    out.whyNot = "the database is inconsistent (a ring names a GPU outside its subset)";
    return out;
  }
}

}  // namespace tccl::db
