// Chaining nodes into a ring: pick one inter-node entry per node so that consecutive hop codes
// meet and the ring's bottleneck GB/s is as high as possible.
#pragma once

#include <vector>

#include "plan/hop.h"

namespace tccl::db {

// The four kinds of inter-node transfer: (sender side GPU-direct?, receiver side GPU-direct?).
inline constexpr int kTransferCodes = 4;
inline int transferCode(bool senderGpuDirect, bool receiverGpuDirect) {
  return (senderGpuDirect ? 2 : 0) | (receiverGpuDirect ? 1 : 0);
}
// The transfer a node receives through `entry` and sends through `exit`. Node i's exit meets
// node i+1's entry iff both give the same code.
inline int entryCode(const Hop& entry) {
  return transferCode(entry.peerGpuDirect, entry.gpuDirect);
}
inline int exitCode(const Hop& exit) {
  return transferCode(exit.gpuDirect, exit.peerGpuDirect);
}

struct ChainOption {
  int inCode = 0;   // entryCode of the option's entry hop
  int outCode = 0;  // exitCode of its exit hop
  double gbps = 0;
};

struct ChainChoice {
  double gbps = 0;          // the ring's bottleneck; 0 when no ring closes
  std::vector<int> option;  // per node, the index of the chosen option; empty when none
};

// options[i] lists node i's candidates; the ring runs 0 -> 1 -> ... -> n-1 -> 0. Ties go to
// the lowest option indices, so every rank computes the same answer.
ChainChoice chooseNodeChains(const std::vector<std::vector<ChainOption>>& options);

}  // namespace tccl::db
