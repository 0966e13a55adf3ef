#include "model/congestion_rules.h"

#include <vector>

namespace tccl::pathfinder {
namespace {

using topo::CongestionRule;
using topo::RuleKind;
using topo::RuleScope;

// One side of a transfer that touches host memory: who (a GPU, or -1 for a NIC) writes or
// reads a buffer on which NUMA node, from which NUMA node, with which engine.
struct HostAccess {
  bool present = false;
  int gpu = -1;
  int numa = -1;        // where the buffer is
  int deviceNuma = -1;  // where the GPU or NIC is
  Engine engine = Engine::kKernel;
};

struct HostLegs {
  HostAccess write, read;
};

// The NUMA node of a transfer's end: GPU `gpu`, or the transfer's NIC when gpu < 0.
int deviceNuma(const topo::Topology& topo, const Transfer& t, int gpu) {
  return gpu >= 0 ? topo.gpus[gpu].numa : topo.nics[t.hop.nic].numa;
}

HostLegs hostLegsOf(const topo::Topology& topo, const Transfer& t) {
  HostLegs legs;
  const Hop& h = t.hop;
  bool staged = h.kind == HopKind::kHostBounce || h.kind == HopKind::kShm ||
                (h.kind == HopKind::kNet && !h.gpuDirect);
  if (!staged) return legs;
  int numa = h.numa >= 0 ? h.numa : topo.gpus[t.src].numa;
  legs.write = {true, t.src, numa, deviceNuma(topo, t, t.src), h.engine};
  legs.read = {true, t.dst, numa, deviceNuma(topo, t, t.dst), h.readEngine};
  return legs;
}

// Device to device without host memory: P2P between GPUs, or GPU-direct RDMA with a NIC.
bool isPeerToPeer(const Transfer& t) {
  return t.hop.kind == HopKind::kP2pWrite || t.hop.kind == HopKind::kP2pRead ||
         (t.hop.kind == HopKind::kNet && t.hop.gpuDirect);
}

bool apart(const topo::Topology& topo, RuleScope scope, int numaA, int numaB) {
  if (scope == RuleScope::kSocket)
    return topo.numaNodes[numaA].socket != topo.numaNodes[numaB].socket;
  return numaA != numaB;
}

}  // namespace

void applyCongestionRules(const topo::Topology& topo, std::span<const Transfer> transfers,
                          std::span<double> factors) {
  const size_t n = transfers.size();
  std::vector<HostLegs> legs(n);
  for (size_t i = 0; i < n; ++i) legs[i] = hostLegsOf(topo, transfers[i]);
  auto gpuNuma = [&](int gpu) { return topo.gpus[gpu].numa; };

  for (const CongestionRule& rule : topo.congestionRules) {
    std::vector<bool> hit(n, false);
    switch (rule.kind) {
      case RuleKind::kHostReadWithRemoteP2pWrite:
        for (size_t r = 0; r < n; ++r) {
          const HostAccess& read = legs[r].read;
          if (!read.present || read.gpu < 0 || read.numa != gpuNuma(read.gpu)) continue;
          for (size_t w = 0; w < n; ++w) {
            const Transfer& t = transfers[w];
            if (t.hop.kind != HopKind::kP2pWrite || t.src != read.gpu) continue;
            if (gpuNuma(t.dst) == gpuNuma(t.src)) continue;
            hit[r] = hit[w] = true;
          }
        }
        for (size_t i = 0; i < n; ++i)
          if (hit[i]) factors[i] *= rule.factor;
        break;
      case RuleKind::kP2pAcrossNuma:
        for (size_t i = 0; i < n; ++i) {
          const Transfer& t = transfers[i];
          if (isPeerToPeer(t) &&
              apart(topo, rule.scope, deviceNuma(topo, t, t.src), deviceNuma(topo, t, t.dst)))
            factors[i] *= rule.factor;
        }
        break;
      case RuleKind::kBounceBuffersOnOneNuma: {
        std::vector<int> users(topo.numaNodes.size(), 0);
        for (size_t i = 0; i < n; ++i)
          if (legs[i].write.present) ++users[legs[i].write.numa];
        for (size_t i = 0; i < n; ++i)
          if (legs[i].write.present && users[legs[i].write.numa] >= rule.minTransfers)
            factors[i] *= rule.factor;
        break;
      }
      case RuleKind::kCopyEngineIntoHost:
        for (size_t i = 0; i < n; ++i) {
          const HostAccess& w = legs[i].write;
          if (!w.present || w.gpu < 0 || w.engine != Engine::kCopyEngine) continue;
          if (rule.remoteOnly && w.numa == gpuNuma(w.gpu)) continue;
          factors[i] *= rule.factor;
        }
        break;
      case RuleKind::kRemoteHostAccess:
        for (size_t i = 0; i < n; ++i) {
          const HostAccess &w = legs[i].write, &r = legs[i].read;
          if (w.present && apart(topo, rule.scope, w.deviceNuma, w.numa))
            factors[i] *= rule.writeFactor;
          if (r.present && apart(topo, rule.scope, r.deviceNuma, r.numa))
            factors[i] *= rule.readFactor;
        }
        break;
    }
  }
}

}  // namespace tccl::pathfinder
