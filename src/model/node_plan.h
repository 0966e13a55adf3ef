// The part of a communication plan that runs inside one node: its channels (rings for a
// single node, chains from the entry GPU to the exit GPU when nodes are chained by NICs).
#pragma once

#include <vector>

#include "db/database.h"
#include "model/profiler.h"
#include "plan/nccl_baseline.h"

namespace tccl::pathfinder {

struct NodePlan {
  std::vector<db::Channel> channels;
  bool chained = false;  // chains with a net entry and exit (multi-node) instead of rings
  Hop entry, exit;       // chained only
  // Chained, optional: each channel's own entry and exit, when they differ between channels
  // (NCCL's channels may start and end at different GPUs). Empty: `entry` and `exit` for all.
  std::vector<Hop> channelEntry, channelExit;
};

// Every transfer of one channel: ring hops, or entry + chain hops + exit.
std::vector<Transfer> channelTransfers(const db::Channel& ch, bool chained, const Hop& entry,
                                       const Hop& exit);
std::vector<Transfer> planTransfers(const NodePlan& plan);

// GB/s the plan moves when a collective's data is split evenly over its channels, all running
// at once: channels x the slowest transfer's rate.
double planGbps(Profiler& profiler, const NodePlan& plan);

// NCCL's plan of one node (every channel it runs, duplicates included) as a NodePlan.
NodePlan baselineNodePlan(const nccl::NodeBaseline& baseline);

}  // namespace tccl::pathfinder
