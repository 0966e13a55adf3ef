#include <algorithm>
#include <map>

#include "plan/plan.h"
#include "plan/tree_builder.h"

namespace tccl {

JobShape deriveJobShape(const std::vector<RankInfo>& ranks) {
  JobShape shape;
  shape.nRanks = static_cast<int>(ranks.size());
  shape.nodeOf.assign(ranks.size(), -1);
  shape.localRankOf.assign(ranks.size(), -1);
  std::map<uint64_t, int> nodeIndex;
  for (const RankInfo& r : ranks) {
    auto [it, inserted] =
        nodeIndex.try_emplace(r.hostHash, static_cast<int>(shape.nodeRanks.size()));
    if (inserted) shape.nodeRanks.emplace_back();
    shape.nodeOf[r.rank] = it->second;
    shape.localRankOf[r.rank] = static_cast<int>(shape.nodeRanks[it->second].size());
    shape.nodeRanks[it->second].push_back(r.rank);
  }
  return shape;
}

Plan buildDefaultPlan(const JobShape& shape, int nChannels) {
  Ring ring;
  for (const auto& node : shape.nodeRanks)
    ring.order.insert(ring.order.end(), node.begin(), node.end());
  const int n = static_cast<int>(ring.order.size());
  for (int i = 0; i < n; ++i) {
    Hop hop;
    if (shape.nodeOf[ring.order[i]] != shape.nodeOf[ring.order[(i + 1) % n]]) {
      hop.kind = HopKind::kNet;
      hop.nic = 0;
    }
    ring.hops.push_back(hop);
  }
  Plan plan;
  plan.source = "default";
  plan.rings.assign(std::max(1, nChannels), ring);
  // Chains in rank order inside each node; node heads form a double binary tree.
  plan.trees = db::buildTreesFromChains(shape.nodeRanks, shape.nRanks);
  return plan;
}

}  // namespace tccl
