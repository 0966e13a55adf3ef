// Candidate hops (docs/architecture.md, "The pathfinder"): between two GPUs a P2P write or
// read, or a host bounce through every NUMA node; toward a NIC GPU-direct or staged on every
// NUMA node.
// Kernel and copy-engine variants of each when the profiler can tell them apart.
#pragma once

#include <vector>

#include "plan/hop.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct Candidates {
  std::vector<Hop> intra;  // GPU -> GPU, the same list for every pair
  std::vector<Hop> entry;  // NIC -> GPU (kNet)
  std::vector<Hop> exit;   // GPU -> NIC (kNet)
};

Candidates enumerateCandidates(const topo::Topology& topo, bool bothEngines);

}  // namespace tccl::pathfinder
