#include "exec/channel_set.h"

#include <algorithm>

namespace tccl {

ChannelSet layOutChannels(const Plan& plan, int rank, bool withTrees) {
  ChannelSet set;
  set.rank = rank;
  set.rings.resize(plan.rings.size());
  for (size_t c = 0; c < plan.rings.size(); ++c) {
    const std::vector<int>& order = plan.rings[c].order;
    set.rings[c].order = order;
    set.rings[c].position =
        static_cast<int>(std::find(order.begin(), order.end(), rank) - order.begin());
  }
  if (!withTrees) return set;
  set.trees.resize(plan.trees.size());
  for (size_t t = 0; t < plan.trees.size(); ++t) {
    set.trees[t].tree = plan.trees[t];
    for (int peer : treeNeighbors(plan.trees[t], rank))
      set.trees[t].links.emplace_back().peer = peer;
  }
  return set;
}

std::vector<RingView> ringViews(const ChannelSet& channels) {
  std::vector<RingView> views;
  views.reserve(channels.rings.size());
  for (const RingChannel& ring : channels.rings)
    views.push_back({ring.order, ring.position, ring.send.get(), ring.recv.get()});
  return views;
}

std::vector<TreeView> treeViews(const ChannelSet& channels) {
  std::vector<TreeView> views;
  views.reserve(channels.trees.size());
  for (const TreeChannel& tree : channels.trees) {
    TreeView v;
    v.tree = &tree.tree;
    v.rank = channels.rank;
    for (const TreeLink& link : tree.links) {
      v.neighbors.push_back(link.peer);
      v.send.push_back(link.send.get());
      v.recv.push_back(link.recv.get());
    }
    views.push_back(std::move(v));
  }
  return views;
}

}  // namespace tccl
