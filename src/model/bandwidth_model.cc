#include "model/bandwidth_model.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "model/congestion_rules.h"

namespace tccl::pathfinder {

using topo::Topology;

BandwidthModel::BandwidthModel(Topology topo) : topo_(std::move(topo)) {
  numGpus_ = static_cast<int>(topo_.gpus.size());
  numNics_ = static_cast<int>(topo_.nics.size());
  numNuma_ = static_cast<int>(topo_.numaNodes.size());
  gpuBase_ = 0;
  for (int g = 0; g < numGpus_; ++g) {
    addResource("gpu" + std::to_string(g) + ".up", topo_.gpus[g].upGbps);
    addResource("gpu" + std::to_string(g) + ".down", topo_.gpus[g].downGbps);
  }
  nicBase_ = static_cast<int>(resources_.size());
  for (int n = 0; n < numNics_; ++n) {
    const topo::Nic& nic = topo_.nics[n];
    addResource("nic" + std::to_string(n) + ".up", nic.upGbps);
    addResource("nic" + std::to_string(n) + ".down", nic.downGbps);
    addResource("nic" + std::to_string(n) + ".wire_in", nic.wireGbps);
    addResource("nic" + std::to_string(n) + ".wire_out", nic.wireGbps);
  }
  pcieBase_ = static_cast<int>(resources_.size());
  for (const topo::PcieNode& p : topo_.pcie) {
    addResource("pcie " + p.id + ".up", p.upGbps);
    addResource("pcie " + p.id + ".down", p.downGbps);
  }
  numaBase_ = static_cast<int>(resources_.size());
  for (int k = 0; k < numNuma_; ++k) {
    const topo::NumaNode& n = topo_.numaNodes[k];
    addResource("numa" + std::to_string(k) + ".memory", n.memoryGbps, true);
    addResource("numa" + std::to_string(k) + ".fabric_out", n.fabricGbps);
    addResource("numa" + std::to_string(k) + ".fabric_in", n.fabricGbps);
  }
  socketBase_ = static_cast<int>(resources_.size());
  for (size_t s = 0; s < topo_.sockets.size(); ++s) {
    addResource("socket" + std::to_string(s) + ".out", topo_.sockets[s].linkGbps);
    addResource("socket" + std::to_string(s) + ".in", topo_.sockets[s].linkGbps);
  }

  auto gpuUp = [&](int g) { return gpuBase_ + 2 * g; };
  auto nicUp = [&](int n) { return nicBase_ + 4 * n; };
  gpuToGpu_.resize(numGpus_ * numGpus_);
  for (int a = 0; a < numGpus_; ++a)
    for (int b = 0; b < numGpus_; ++b) {
      const topo::Gpu &ga = topo_.gpus[a], &gb = topo_.gpus[b];
      gpuToGpu_[a * numGpus_ + b] =
          p2pLeg(gpuUp(a), ga.parent, ga.numa, gpuUp(b) + 1, gb.parent, gb.numa);
    }
  nicToGpu_.resize(numNics_ * numGpus_);
  gpuToNic_.resize(numGpus_ * numNics_);
  for (int n = 0; n < numNics_; ++n)
    for (int g = 0; g < numGpus_; ++g) {
      const topo::Nic& nic = topo_.nics[n];
      const topo::Gpu& gpu = topo_.gpus[g];
      nicToGpu_[n * numGpus_ + g] =
          p2pLeg(nicUp(n), nic.parent, nic.numa, gpuUp(g) + 1, gpu.parent, gpu.numa);
      gpuToNic_[g * numNics_ + n] =
          p2pLeg(gpuUp(g), gpu.parent, gpu.numa, nicUp(n) + 1, nic.parent, nic.numa);
    }
  gpuWrite_.resize(numGpus_ * numNuma_);
  gpuRead_.resize(numGpus_ * numNuma_);
  for (int g = 0; g < numGpus_; ++g)
    for (int k = 0; k < numNuma_; ++k) {
      const topo::Gpu& gpu = topo_.gpus[g];
      gpuWrite_[g * numNuma_ + k] = hostWriteLeg(gpuUp(g), gpu.parent, gpu.numa, k);
      gpuRead_[g * numNuma_ + k] = hostReadLeg(k, gpuUp(g) + 1, gpu.parent, gpu.numa);
    }
  nicWrite_.resize(numNics_ * numNuma_);
  nicRead_.resize(numNics_ * numNuma_);
  for (int n = 0; n < numNics_; ++n) {
    for (int k = 0; k < numNuma_; ++k) {
      const topo::Nic& nic = topo_.nics[n];
      nicWrite_[n * numNuma_ + k] = hostWriteLeg(nicUp(n), nic.parent, nic.numa, k);
      nicRead_[n * numNuma_ + k] = hostReadLeg(k, nicUp(n) + 1, nic.parent, nic.numa);
    }
    wireIn_.push_back({nicUp(n) + 2});
    wireOut_.push_back({nicUp(n) + 3});
  }
}

void BandwidthModel::addResource(std::string name, double capacity, bool countsBytes) {
  resources_.push_back({std::move(name), capacity, countsBytes});
}

void BandwidthModel::appendFabric(Leg& leg, int from, int to) const {
  if (from == to) return;
  leg.push_back(numaBase_ + 3 * from + 1);
  int sFrom = topo_.numaNodes[from].socket, sTo = topo_.numaNodes[to].socket;
  if (sFrom != sTo) {
    leg.push_back(socketBase_ + 2 * sFrom);
    leg.push_back(socketBase_ + 2 * sTo + 1);
  }
  leg.push_back(numaBase_ + 3 * to + 2);
}

BandwidthModel::Leg BandwidthModel::p2pLeg(int upA, int parentA, int numaA, int downB, int parentB,
                                           int numaB) const {
  std::vector<int> ancA = topo::pcieAncestors(topo_, parentA);
  std::vector<int> ancB = topo::pcieAncestors(topo_, parentB);
  Leg leg{upA, downB};
  for (size_t i = 0; i < ancA.size(); ++i) {
    auto common = std::find(ancB.begin(), ancB.end(), ancA[i]);
    if (common == ancB.end()) continue;
    // Turn around at the lowest common PCIe node: the CPU is not involved.
    for (size_t u = 0; u < i; ++u) leg.push_back(pcieBase_ + 2 * ancA[u]);
    for (auto d = ancB.begin(); d != common; ++d) leg.push_back(pcieBase_ + 2 * *d + 1);
    return leg;
  }
  for (int p : ancA) leg.push_back(pcieBase_ + 2 * p);
  appendFabric(leg, numaA, numaB);
  for (int p : ancB) leg.push_back(pcieBase_ + 2 * p + 1);
  return leg;
}

BandwidthModel::Leg BandwidthModel::hostWriteLeg(int up, int parent, int numa, int toNuma) const {
  Leg leg{up};
  for (int p : topo::pcieAncestors(topo_, parent)) leg.push_back(pcieBase_ + 2 * p);
  appendFabric(leg, numa, toNuma);
  leg.push_back(numaBase_ + 3 * toNuma);
  return leg;
}

BandwidthModel::Leg BandwidthModel::hostReadLeg(int fromNuma, int down, int parent,
                                                int numa) const {
  Leg leg{numaBase_ + 3 * fromNuma};
  appendFabric(leg, fromNuma, numa);
  for (int p : topo::pcieAncestors(topo_, parent)) leg.push_back(pcieBase_ + 2 * p + 1);
  leg.push_back(down);
  return leg;
}

void BandwidthModel::checkTransfer(const Transfer& t) const {
  auto bad = [&](const std::string& why) {
    throw std::invalid_argument("transfer " + describeTransfer(t) + ": " + why);
  };
  if (t.src >= numGpus_ || t.dst >= numGpus_) bad("no such GPU");
  if (t.src < 0 && t.dst < 0) bad("needs at least one GPU end");
  bool net = t.hop.kind == HopKind::kNet;
  if (net != (t.src < 0 || t.dst < 0)) bad("net hops (and only they) have a NIC end");
  if (!net && t.src == t.dst) bad("source and destination are the same GPU");
  if (net && (t.hop.nic < 0 || t.hop.nic >= numNics_)) bad("no such NIC");
  bool staged = t.hop.kind == HopKind::kHostBounce || (net && !t.hop.gpuDirect);
  if (staged && (t.hop.numa < 0 || t.hop.numa >= numNuma_)) bad("no such NUMA node");
  if (t.hop.kind == HopKind::kShm && t.hop.numa >= numNuma_) bad("no such NUMA node");
}

int BandwidthModel::legsOf(const Transfer& t, const Leg* out[3]) const {
  checkTransfer(t);
  const Hop& h = t.hop;
  switch (h.kind) {
    case HopKind::kP2pWrite:
    case HopKind::kP2pRead:
      out[0] = &gpuToGpu_[t.src * numGpus_ + t.dst];
      return 1;
    case HopKind::kHostBounce:
    case HopKind::kShm: {
      int k = h.numa >= 0 ? h.numa : topo_.gpus[t.src].numa;
      out[0] = &gpuWrite_[t.src * numNuma_ + k];
      out[1] = &gpuRead_[t.dst * numNuma_ + k];
      return 2;
    }
    case HopKind::kNet:
      if (t.isEntry()) {
        out[0] = &wireIn_[h.nic];
        if (h.gpuDirect) {
          out[1] = &nicToGpu_[h.nic * numGpus_ + t.dst];
          return 2;
        }
        out[1] = &nicWrite_[h.nic * numNuma_ + h.numa];
        out[2] = &gpuRead_[t.dst * numNuma_ + h.numa];
        return 3;
      }
      out[0] = &wireOut_[h.nic];
      if (h.gpuDirect) {
        out[1] = &gpuToNic_[t.src * numNics_ + h.nic];
        return 2;
      }
      out[1] = &gpuWrite_[t.src * numNuma_ + h.numa];
      out[2] = &nicRead_[h.nic * numNuma_ + h.numa];
      return 3;
  }
  return 0;
}

std::vector<int> BandwidthModel::route(const Transfer& t) const {
  const Leg* legs[3];
  int n = legsOf(t, legs);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.insert(out.end(), legs[i]->begin(), legs[i]->end());
  return out;
}

std::vector<double> BandwidthModel::factors(std::span<const Transfer> transfers) const {
  std::vector<double> f(transfers.size(), 1.0);
  for (size_t i = 0; i < transfers.size(); ++i) {
    const Transfer& t = transfers[i];
    const topo::TransferEfficiency& e = topo_.efficiency;
    switch (t.hop.kind) {
      case HopKind::kP2pWrite:
        f[i] = topo_.p2pSupported ? e.p2pWrite : 0;
        break;
      case HopKind::kP2pRead:
        f[i] = topo_.p2pSupported ? e.p2pRead : 0;
        break;
      case HopKind::kHostBounce:
      case HopKind::kShm:
        f[i] = e.hostBounce;
        break;
      case HopKind::kNet:
        f[i] = t.hop.gpuDirect ? e.netGpuDirect : e.netStaged;
        break;
    }
  }
  applyCongestionRules(topo_, transfers, f);
  return f;
}

double BandwidthModel::bottleneck(std::span<const Transfer> transfers) const {
  if (transfers.empty()) return 0;
  std::vector<double> f = factors(transfers);
  thread_local std::vector<double> load;
  load.assign(resources_.size(), 0.0);
  for (size_t i = 0; i < transfers.size(); ++i) {
    if (f[i] <= 0) return 0;
    const Leg* legs[3];
    int n = legsOf(transfers[i], legs);
    for (int l = 0; l < n; ++l)
      for (int r : *legs[l]) load[r] += loadPerGbps(resources_[r], f[i]);
  }
  double rate = std::numeric_limits<double>::infinity();
  for (size_t r = 0; r < load.size(); ++r)
    if (load[r] > 0) rate = std::min(rate, resources_[r].capacity / load[r]);
  return rate;
}

std::vector<double> BandwidthModel::rates(std::span<const Transfer> transfers) const {
  const size_t nt = transfers.size(), nr = resources_.size();
  std::vector<double> f = factors(transfers);
  std::vector<std::vector<double>> use(nt, std::vector<double>(nr, 0.0));  // load per GB/s
  for (size_t i = 0; i < nt; ++i) {
    const Leg* legs[3];
    int n = legsOf(transfers[i], legs);
    if (f[i] <= 0) continue;
    for (int l = 0; l < n; ++l)
      for (int r : *legs[l]) use[i][r] += loadPerGbps(resources_[r], f[i]);
  }
  std::vector<double> rate(nt, 0.0), residual(nr);
  for (size_t r = 0; r < nr; ++r) residual[r] = resources_[r].capacity;
  std::vector<bool> active(nt);
  for (size_t i = 0; i < nt; ++i) active[i] = f[i] > 0;
  constexpr double kEps = 1e-9;
  // Progressive filling: raise every unfrozen rate together until a resource fills up,
  // then freeze the transfers that cross it.
  while (std::find(active.begin(), active.end(), true) != active.end()) {
    std::vector<double> demand(nr, 0.0);
    for (size_t i = 0; i < nt; ++i)
      if (active[i])
        for (size_t r = 0; r < nr; ++r) demand[r] += use[i][r];
    double step = std::numeric_limits<double>::infinity();
    for (size_t r = 0; r < nr; ++r)
      if (demand[r] > 0) step = std::min(step, residual[r] / demand[r]);
    for (size_t i = 0; i < nt; ++i)
      if (active[i]) rate[i] += step;
    for (size_t r = 0; r < nr; ++r) residual[r] -= step * demand[r];
    for (size_t i = 0; i < nt; ++i) {
      if (!active[i]) continue;
      for (size_t r = 0; r < nr; ++r)
        if (use[i][r] > 0 && residual[r] <= kEps * resources_[r].capacity) active[i] = false;
    }
  }
  return rate;
}

}  // namespace tccl::pathfinder
