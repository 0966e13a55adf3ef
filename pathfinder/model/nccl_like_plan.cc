#include "model/nccl_like_plan.h"

#include <algorithm>

namespace tccl::pathfinder {

Hop ncclLikeHop(const topo::Topology& topo, int fromGpu, int toGpu) {
  Hop hop;
  bool sameHostBridge = topo.gpus[fromGpu].numa == topo.gpus[toGpu].numa;
  if (topo.p2pSupported && (sameHostBridge || topo::shareSwitch(topo, fromGpu, toGpu))) {
    hop.kind = HopKind::kP2pWrite;
  } else {
    hop.kind = HopKind::kHostBounce;
    hop.numa = topo.gpus[fromGpu].numa;
  }
  return hop;
}

Hop ncclLikeNetHop(const topo::Topology& topo, int gpu) {
  Hop hop;
  hop.kind = HopKind::kNet;
  hop.nic = 0;
  const topo::Nic& nic = topo.nics.at(0);
  std::vector<int> gpuUp = topo::pcieAncestors(topo, topo.gpus[gpu].parent);
  bool sharesSwitch = false;
  for (int p : topo::pcieAncestors(topo, nic.parent))
    if (topo.pcie[p].kind == topo::PcieKind::kSwitch &&
        std::find(gpuUp.begin(), gpuUp.end(), p) != gpuUp.end())
      sharesSwitch = true;
  hop.gpuDirect = nic.gpuDirect && sharesSwitch;
  hop.peerGpuDirect = hop.gpuDirect;
  if (!hop.gpuDirect) hop.numa = topo.gpus[gpu].numa;
  return hop;
}

NodePlan ncclLikePlan(const topo::Topology& topo, bool multiNode) {
  NodePlan plan;
  db::Channel ch;
  const int n = static_cast<int>(topo.gpus.size());
  for (int g = 0; g < n; ++g) ch.order.push_back(g);
  const int hops = multiNode ? n - 1 : n;
  for (int i = 0; i < hops; ++i) ch.hops.push_back(ncclLikeHop(topo, i, (i + 1) % n));
  plan.chained = multiNode;
  if (multiNode) {
    plan.entry = ncclLikeNetHop(topo, 0);
    plan.exit = ncclLikeNetHop(topo, n - 1);
  }
  plan.channels.push_back(ch);
  return plan;
}

}  // namespace tccl::pathfinder
