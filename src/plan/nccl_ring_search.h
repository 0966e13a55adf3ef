// NCCL's search for the rings of one node (graph/search.cc, ncclTopoCompute with the RING
// pattern), replayed on a System: the same tries in the same order, the same bandwidth
// bookkeeping on the links and the same time budgets, for PCIe-only nodes (no NVLink, no
// NVSwitch) with at most one NIC.
#pragma once

#include <vector>

#include "plan/nccl_system.h"

namespace tccl::nccl {

struct RingGraph {
  int nChannels = 0;
  std::vector<std::vector<int>> rings;  // per channel: NCCL's GPU indices (System::gpuNode)
  std::vector<int> netIn, netOut;       // per channel: the NICs (several nodes only)
  float bwIntra = 0, bwInter = 0;       // NCCL's per-channel estimate
  PathType typeIntra = PathType::kLoc, typeInter = PathType::kLoc;
  bool sameChannels = true;
  bool fallback = false;  // nothing found: NCCL's "simple order" at 0.1 GB/s
};

// Runs the search; `system`'s link bandwidths are used as scratch and restored.
RingGraph searchRings(System& system);

}  // namespace tccl::nccl
