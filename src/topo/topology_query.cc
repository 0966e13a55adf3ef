// Small read-only questions about a Topology.
#include <algorithm>

#include "topo/topology.h"

namespace tccl::topo {

NodeSignature signatureOf(const Topology& topo) {
  NodeSignature sig;
  sig.cpuModel = topo.cpuModel;
  sig.numaCount = static_cast<int>(topo.numaNodes.size());
  for (const Gpu& g : topo.gpus) sig.gpus.push_back({g.busId, g.model, g.numa});
  for (const Nic& n : topo.nics) sig.nics.push_back({n.name, n.numa});
  return sig;
}

int gpuNuma(const Topology& topo, int gpuIndex) {
  if (gpuIndex < 0 || gpuIndex >= static_cast<int>(topo.gpus.size())) return -1;
  return topo.gpus[gpuIndex].numa;
}

int numaSocket(const Topology& topo, int numa) {
  if (numa < 0 || numa >= static_cast<int>(topo.numaNodes.size())) return -1;
  return topo.numaNodes[numa].socket;
}

std::vector<int> pcieAncestors(const Topology& topo, int parent) {
  std::vector<int> chain;
  for (int cur = parent; cur >= 0; cur = topo.pcie[cur].parent) {
    chain.push_back(cur);
    if (topo.pcie[cur].kind == PcieKind::kRootPort) break;
  }
  return chain;
}

bool shareSwitch(const Topology& topo, int gpuA, int gpuB) {
  std::vector<int> a = pcieAncestors(topo, topo.gpus[gpuA].parent);
  std::vector<int> b = pcieAncestors(topo, topo.gpus[gpuB].parent);
  for (int x : a)
    if (topo.pcie[x].kind == PcieKind::kSwitch && std::find(b.begin(), b.end(), x) != b.end())
      return true;
  return false;
}

}  // namespace tccl::topo
