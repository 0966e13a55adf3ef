#include "search/candidates.h"

namespace tccl::pathfinder {

Candidates enumerateCandidates(const topo::Topology& topo, bool bothEngines) {
  std::vector<Engine> engines{Engine::kKernel};
  if (bothEngines) engines.push_back(Engine::kCopyEngine);
  const int numaCount = static_cast<int>(topo.numaNodes.size());
  Candidates c;
  if (topo.p2pSupported)
    for (HopKind kind : {HopKind::kP2pWrite, HopKind::kP2pRead})
      for (Engine e : engines) c.intra.push_back({.kind = kind, .engine = e});
  for (int k = 0; k < numaCount; ++k)
    for (Engine w : engines)
      for (Engine r : engines)
        c.intra.push_back({.kind = HopKind::kHostBounce, .engine = w, .readEngine = r, .numa = k});

  for (int nic = 0; nic < static_cast<int>(topo.nics.size()); ++nic) {
    Hop gdr{.kind = HopKind::kNet, .nic = nic, .gpuDirect = true};
    if (topo.nics[nic].gpuDirect) {
      c.entry.push_back(gdr);
      c.exit.push_back(gdr);
    }
    for (int k = 0; k < numaCount; ++k)
      for (Engine e : engines) {
        c.entry.push_back({.kind = HopKind::kNet, .readEngine = e, .numa = k, .nic = nic});
        c.exit.push_back({.kind = HopKind::kNet, .engine = e, .numa = k, .nic = nic});
      }
  }
  return c;
}

}  // namespace tccl::pathfinder
