// Chunked, pipelined tree schedules: AllReduce (reduce up the tree, broadcast down), Broadcast
// and Reduce. Each of the plan's trees (two for a double binary tree) takes a share of the
// buffer, like a ring channel. Broadcast and Reduce re-root the tree at their root: every tree
// edge is connected both ways, so data may flow along it in either direction.
#pragma once

#include <string>
#include <vector>

#include "device/device_backend.h"
#include "exec/program.h"
#include "exec/ring_schedule.h"
#include "plan/plan.h"

namespace tccl {

// One tree as this rank sees it: its neighbours in treeNeighbors() order, each with a
// connection to it and one from it.
struct TreeView {
  const Tree* tree = nullptr;
  int rank = 0;
  std::vector<int> neighbors;
  std::vector<Connection*> send, recv;
};

// The plan's parent of `rank` (if any) first, then its children: the order in which a rank
// lays out its tree connections.
std::vector<int> treeNeighbors(const Tree& tree, int rank);

// Whether a communicator connects its trees: it has several ranks, the plan has trees and
// the Tree algorithm may run (NCCL_ALGO=tree, or no NCCL_ALGO and two nodes or more).
bool treesWanted(const Plan& plan, const JobShape& shape, const std::string& algo);

// The algorithm for one collective: NCCL_ALGO when set, else tree for messages of at most
// treeMaxBytes across two nodes or more.
bool useTreeAlgorithm(CollKind kind, size_t bytes, const JobShape& shape, const std::string& algo,
                      size_t treeMaxBytes, bool treesConnected);

// Appends the lanes of every tree to `program` (and allocates program->scratch on `device`
// when partial sums need a home); chunkElems bounds each step (one FIFO slot).
ncclResult_t buildTreeProgram(const CollArgs& args, const std::vector<TreeView>& trees,
                              size_t chunkElems, DeviceBackend& device, Program* program);

}  // namespace tccl
