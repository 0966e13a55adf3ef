// The rings and trees of one communicator as this rank holds them, with their connections:
// what compile lays collectives on. Laid out from the plan and connected at init (core), then
// owned by the communicator.
#pragma once

#include <memory>
#include <vector>

#include "exec/ring_schedule.h"
#include "exec/tree_schedule.h"
#include "plan/plan.h"
#include "transport/connection.h"

namespace tccl {

// One channel's ring through this rank.
struct RingChannel {
  std::vector<int> order;            // global ranks
  int position = 0;                  // where this rank is in `order`
  std::unique_ptr<Connection> send;  // to the next rank; null in a ring of one rank
  std::unique_ptr<Connection> recv;  // from the previous one
};

// An edge of a tree at this rank, connected both ways.
struct TreeLink {
  int peer = 0;
  std::unique_ptr<Connection> send;
  std::unique_ptr<Connection> recv;
};

struct TreeChannel {
  Tree tree;
  std::vector<TreeLink> links;  // this rank's neighbours in treeNeighbors() order
};

struct ChannelSet {
  int rank = 0;
  std::vector<RingChannel> rings;  // one per channel of the plan
  std::vector<TreeChannel> trees;  // empty unless the Tree algorithm may run
  void clear() {
    rings.clear();
    trees.clear();
  }
};

// The channels of `plan` through `rank`, every connection still null: each ring, and each tree
// when `withTrees`.
ChannelSet layOutChannels(const Plan& plan, int rank, bool withTrees);

// How the schedules see the channels; the views point into `channels`.
std::vector<RingView> ringViews(const ChannelSet& channels);
std::vector<TreeView> treeViews(const ChannelSet& channels);

}  // namespace tccl
