// The baseline tccl-sim compares against: what NCCL does on a PCIe-only box.
//  - one ring in PCI order (GPU 0, 1, ..., n-1);
//  - a P2P write (kernel) when the two GPUs share a PCIe switch or a host bridge (the same
//    NUMA node's root complex), otherwise a host bounce through the sender's NUMA node
//    (NCCL's SHM transport; its buffer is allocated by the sender's proxy);
//  - between nodes: NIC 0, GPU-direct when the NIC supports it and shares a PCIe switch with
//    the GPU, otherwise staged through host memory on the GPU's NUMA node.
// NCCL's extra channels repeat the same ring, which in the model moves the same bytes, so one
// channel represents them.
#pragma once

#include "model/node_plan.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

Hop ncclLikeHop(const topo::Topology& topo, int fromGpu, int toGpu);
Hop ncclLikeNetHop(const topo::Topology& topo, int gpu);
NodePlan ncclLikePlan(const topo::Topology& topo, bool multiNode);

}  // namespace tccl::pathfinder
