// The channel plan: which ring (and tree) every channel follows and how each hop moves
// bytes. Built once at init, identically on every rank, from the allgathered RankInfo.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/hop.h"

namespace tccl {

// What every rank publishes about itself at init (allgathered, so plain data only).
struct RankInfo {
  int rank = 0;
  uint64_t hostHash = 0;      // node identity: hostname + boot id, or NCCL_HOSTID
  uint64_t physHostHash = 0;  // the real machine, ignoring NCCL_HOSTID (shared memory works)
  int pid = 0;
  int cudaDev = -1;     // -1 on the host backend
  int gpuIndex = -1;    // index of this rank's GPU in its node (TCCL_SIM_TOPOLOGY: local rank)
  int numaNode = -1;    // NUMA node closest to this rank's GPU or CPU
  char busId[16] = {};  // PCI bus id of the GPU, "" on the host backend
  int dbNodeType = -1;  // index of this rank's node type in the path database, -1: no match
  uint64_t dbHash = 0;  // hash of the database this rank loaded (all ranks must agree)
};

// Where each rank sits, derived from RankInfo: nodes in order of their lowest rank.
struct JobShape {
  int nRanks = 0;
  std::vector<int> nodeOf;                  // rank -> node index
  std::vector<int> localRankOf;             // rank -> index within its node
  std::vector<std::vector<int>> nodeRanks;  // node -> its ranks, ascending
};
JobShape deriveJobShape(const std::vector<RankInfo>& ranks);

struct Ring {
  std::vector<int> order;  // global ranks, each exactly once
  std::vector<Hop> hops;   // hops[i] carries order[i] -> order[(i + 1) % n]
};

// A tree for Tree-algorithm collectives: each rank's parent (-1 at the root) and children.
struct Tree {
  std::vector<int> parent;
  std::vector<std::vector<int>> children;
};

// Channels of one plan, and of one database entry. Each channel holds a FIFO per hop
// (TCCL_CHUNK_SIZE x TCCL_FIFO_SLOTS bytes each way, 4 MiB by default), so a few dozen are
// plenty.
inline constexpr int kMaxChannels = 64;

struct Plan {
  // "default" (plain rings), "default:nccl-2.28" (NCCL's own plan), "db:<file>[<node type>]",
  // "auto:<cache file>[<node type>]" (TCCL_DB=auto), "xml:<file>"
  std::string source = "default";
  std::vector<Ring> rings;  // one per channel
  std::vector<Tree> trees;  // optional; empty when the plan has none
};

// The plain default, when the nodes' topologies are unknown: every channel is the ring of ranks
// in order; shm hops in a node, net hops between nodes. Trees: a chain per node, node heads in
// a double binary tree. (With known topologies the default is NCCL's plan: baseline_plan.h.)
Plan buildDefaultPlan(const JobShape& shape, int nChannels);

}  // namespace tccl
