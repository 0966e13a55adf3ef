// Relabelling symmetry: two search problems are the same when an automorphism of the node
// (swapping identical sockets, NUMA nodes, PCIe subtrees, GPUs, NICs) maps one onto the other.
// The node is a rooted tree (machine > sockets > NUMA nodes > root ports > switches > devices);
// its canonical form, with the problem's GPUs marked, is the cache key, and the canonical
// traversal order gives the relabelling between two problems with the same key.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "plan/hop.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct Relabelling {
  std::string key;                        // equal keys: equivalent problems
  std::vector<int> gpuPos;                // GPU index -> canonical position
  std::vector<int> numaPos;               // NUMA node -> canonical position
  std::vector<int> nicPos;                // NIC index -> canonical position
  std::vector<int> gpuAt, numaAt, nicAt;  // the inverses
};

// entry/exit: the chain's net hops (their staging NUMA node and NIC are marked); null for rings.
Relabelling canonicalRelabelling(const topo::Topology& topo, std::span<const int> gpus,
                                 const Hop* entry, const Hop* exit);

}  // namespace tccl::pathfinder
