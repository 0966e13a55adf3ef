#include "plan/nccl_system.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>

namespace tccl::nccl {
namespace {

constexpr float kLocBw = 5000;  // NCCL's LOC_BW: "no limit"

constexpr std::array<std::string_view, 12> kPathNames{"LOC", "NVL", "NVB", "C2C", "PIX", "PXB",
                                                      "P2C", "PXN", "PHB", "SYS", "NET", "DIS"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains(std::string_view hay, std::string_view needle) {
  return lower(hay).find(lower(needle)) != std::string::npos;
}

// The value nearest to x in log distance.
float nearest(double x, std::span<const float> values) {
  float best = values[0];
  for (float v : values)
    if (std::fabs(std::log(x / v)) < std::fabs(std::log(x / best))) best = v;
  return best;
}

// topo.h (NCCL): inter-CPU bandwidth per vendor and generation (ncclTopoGetInterCpuBw).
float interCpuBw(const CpuKind& cpu, Release release) {
  if (cpu.vendor == CpuVendor::kIntel) {
    if (release == Release::k2_18) return cpu.intelGeneration >= 1 ? 10 : 6;  // SKL_QPI / QPI
    static constexpr float kByGeneration[] = {6, 10, 22, 40};                 // BDW, SKL, SRP, ERP
    return kByGeneration[std::clamp(cpu.intelGeneration, 0, 3)];
  }
  if (cpu.vendor == CpuVendor::kAmd) return release == Release::k2_18 ? kLocBw : 16;  // AMD_BW
  return kLocBw;
}

bool isPathLink(System::LinkKind kind) {
  return kind == System::LinkKind::kPci;
}

}  // namespace

std::string_view pathTypeName(PathType type) {
  return kPathNames[static_cast<size_t>(type)];
}

PathType widerPathType(PathType type, Release release) {
  auto next = static_cast<PathType>(static_cast<int>(type) + 1);
  if (release == Release::k2_18 && (next == PathType::kC2c || next == PathType::kP2c))
    next = static_cast<PathType>(static_cast<int>(next) + 1);
  return next;
}

CpuKind cpuKindOf(const topo::Topology& topo) {
  CpuKind k;
  const std::string& m = topo.cpuModel;
  if (contains(m, "amd") || contains(m, "epyc") || contains(m, "ryzen") ||
      contains(m, "threadripper")) {
    k.vendor = CpuVendor::kAmd;
  } else if (contains(m, "intel") || contains(m, "xeon")) {
    k.vendor = CpuVendor::kIntel;
    // NCCL tells generations apart by cpuid model; model names say it in words or digits.
    if (contains(m, "emerald rapids") || contains(m, "5th gen"))
      k.intelGeneration = 3;
    else if (contains(m, "sapphire rapids") || contains(m, "4th gen"))
      k.intelGeneration = 2;
    else if (contains(m, "skylake") || contains(m, "cascade lake") || contains(m, "ice lake") ||
             contains(m, "gold") || contains(m, "platinum") || contains(m, "silver"))
      k.intelGeneration = 1;
  }
  return k;
}

int computeCapabilityOf(std::string_view model) {
  struct Family {
    std::string_view name;
    int cc;
  };
  static constexpr Family kFamilies[] = {
      {"p100", 60},    {"v100", 70},  {"titan v", 70}, {"t4", 75},     {"rtx 20", 75},
      {"2080", 75},    {"a100", 80},  {"a30", 80},     {"a40", 86},    {"a10", 86},
      {"a16", 86},     {"a6000", 86}, {"rtx 30", 86},  {"3090", 86},   {"3080", 86},
      {"l40", 89},     {"l4", 89},    {"4090", 89},    {"rtx 40", 89}, {"6000 ada", 89},
      {"h100", 90},    {"h200", 90},  {"h20", 90},     {"b200", 100},  {"5090", 120},
      {"rtx pro", 120}};
  for (const Family& f : kFamilies)
    if (contains(model, f.name)) return f.cc;
  return 80;
}

float nominalPcieGbps(double measured) {
  // lanes x GT/s rate / 80, NCCL's kvDictPciGen (topo.cc), for x1..x16 and Gen1..Gen6.
  static const std::vector<float> kValues = [] {
    std::vector<float> v;
    for (int lanes : {1, 2, 4, 8, 16})
      for (int rate : {15, 30, 60, 120, 240, 480}) v.push_back(lanes * rate / 80.0f);
    return v;
  }();
  return nearest(measured, kValues);
}

float nominalNetGbps(double measured) {
  static constexpr float kPorts[] = {1.25f, 3.125f, 5, 6.25f, 12.5f, 25, 50, 100};  // 10G..800G
  return nearest(measured, kPorts);
}

int System::addNode(Node n) {
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size()) - 1;
}

void System::connect(int a, int b, LinkKind kind, float bw) {
  links_.push_back({a, b, kind, bw});
  links_.push_back({b, a, kind, bw});
  const int ab = static_cast<int>(links_.size()) - 2;
  reverse_.push_back(ab + 1);
  reverse_.push_back(ab);
  nodes_[a].links.push_back(ab);
  nodes_[b].links.push_back(ab + 1);
}

System::System(const topo::Topology& topo, std::span<const int> gpus, bool withNet, Release release,
               const Knobs& knobs)
    : release_(release), knobs_(knobs), cpu_(cpuKindOf(topo)) {
  inter_ = withNet;
  p2pSupported_ = topo.p2pSupported;
  // 2.18 drops the NICs of single-node communicators (ncclTopoTrimSystem); 2.28 keeps them.
  const bool withNic = !topo.nics.empty() && (withNet || release == Release::k2_28);
  nicGdr_ = withNic && topo.nics[0].gpuDirect;

  // NCCL builds its XML rank by rank, then the NICs: CPUs and PCIe subtrees appear in the order
  // of the first device found below them, and GPUs are numbered in that tree order.
  struct Device {
    bool nic;
    int index;
  };
  std::vector<Device> devices;
  for (int g : gpus) devices.push_back({false, g});
  if (withNic) devices.push_back({true, 0});
  std::vector<int> cpuOrder;
  std::map<int, std::vector<int>> children;  // pcie node (or -1 - numa for a CPU) -> children
  std::map<int, std::vector<Device>> leaves;
  auto addChild = [&](int parent, int child) {
    auto& list = children[parent];
    if (std::find(list.begin(), list.end(), child) == list.end()) list.push_back(child);
  };
  for (const Device& d : devices) {
    const int parent = d.nic ? topo.nics[d.index].parent : topo.gpus[d.index].parent;
    const int numa = d.nic ? topo.nics[d.index].numa : topo.gpus[d.index].numa;
    if (std::find(cpuOrder.begin(), cpuOrder.end(), numa) == cpuOrder.end())
      cpuOrder.push_back(numa);
    // Switches from the top down; root ports are not NCCL nodes (the device hangs off the CPU).
    std::vector<int> chain = topo::pcieAncestors(topo, parent);
    std::reverse(chain.begin(), chain.end());
    int up = -1 - numa;
    for (int p : chain) {
      if (topo.pcie[p].kind != topo::PcieKind::kSwitch) continue;
      addChild(up, p);
      up = p;
    }
    leaves[up].push_back(d);
    addChild(up, 1000000 + static_cast<int>(leaves[up].size()) - 1);
  }

  for (int numa : cpuOrder) {
    Node cpu;
    cpu.kind = NodeKind::kCpu;
    cpu.numa = numa;
    cpus_.push_back(addNode(cpu));
  }
  auto build = [&](auto&& self, int key, int nodeId) -> void {
    for (int child : children[key]) {
      if (child >= 1000000) {
        const Device& d = leaves[key][child - 1000000];
        Node n;
        n.device = d.index;
        if (d.nic) {
          const topo::Nic& nic = topo.nics[d.index];
          n.kind = NodeKind::kNic;
          const int id = addNode(n);
          connect(id, nodeId, LinkKind::kPci, nominalPcieGbps(std::min(nic.upGbps, nic.downGbps)));
          Node net;
          net.kind = NodeKind::kNet;
          net.device = d.index;
          const int netId = addNode(net);
          connect(id, netId, LinkKind::kNet, nominalNetGbps(nic.wireGbps));
          nets_.push_back(netId);
        } else {
          const topo::Gpu& gpu = topo.gpus[d.index];
          n.kind = NodeKind::kGpu;
          n.cc = computeCapabilityOf(gpu.model);
          n.rank = static_cast<int>(std::find(gpus.begin(), gpus.end(), d.index) - gpus.begin());
          const int id = addNode(n);
          connect(id, nodeId, LinkKind::kPci, nominalPcieGbps(std::min(gpu.upGbps, gpu.downGbps)));
          gpus_.push_back(id);
        }
        continue;
      }
      const topo::PcieNode& sw = topo.pcie[child];
      Node n;
      n.kind = NodeKind::kPci;
      n.device = child;
      const int id = addNode(n);
      connect(id, nodeId, LinkKind::kPci, nominalPcieGbps(std::min(sw.upGbps, sw.downGbps)));
      self(self, child, id);
    }
  };
  for (size_t c = 0; c < cpuOrder.size(); ++c) build(build, -1 - cpuOrder[c], cpus_[c]);
  // Every pair of CPU nodes is joined by a link of the vendor's inter-socket bandwidth.
  for (size_t a = 0; a < cpus_.size(); ++a)
    for (size_t b = a + 1; b < cpus_.size(); ++b)
      connect(cpus_[a], cpus_[b], LinkKind::kSys, interCpuBw(cpu_, release));

  const int ng = gpuCount(), nn = netCount();
  std::vector<std::vector<Path>> toGpu(ng), toNet(nn);
  for (int g = 0; g < ng; ++g) toGpu[g] = pathsTo(gpus_[g]);
  for (int n = 0; n < nn; ++n) toNet[n] = pathsTo(nets_[n]);
  std::vector<std::vector<Path>> toCpuNode(cpus_.size());
  for (size_t c = 0; c < cpus_.size(); ++c) toCpuNode[c] = pathsTo(cpus_[c]);
  localCpu_.resize(ng);
  for (int g = 0; g < ng; ++g)  // the CPU the GPU's PCIe tree hangs from: the fewest hops
    for (size_t c = 0; c < cpus_.size(); ++c)
      if (c == 0 ||
          toCpuNode[c][gpus_[g]].links.size() < toCpuNode[localCpu_[g]][gpus_[g]].links.size())
        localCpu_[g] = static_cast<int>(c);
  directNetType_.resize(ng * nn);
  for (int g = 0; g < ng; ++g)
    for (int n = 0; n < nn; ++n) directNetType_[g * nn + n] = toNet[n][gpus_[g]].type;

  gpuGpu_.resize(ng * ng);
  directType_.resize(ng * ng);
  p2p_.assign(ng * ng, false);
  for (int a = 0; a < ng; ++a)
    for (int b = 0; b < ng; ++b) {
      gpuGpu_[a * ng + b] = toGpu[b][gpus_[a]];
      directType_[a * ng + b] = gpuGpu_[a * ng + b].type;
    }
  gpuNet_.resize(ng * nn);
  netGpu_.resize(nn * ng);
  for (int g = 0; g < ng; ++g)
    for (int n = 0; n < nn; ++n) {
      gpuNet_[g * nn + n] = toNet[n][gpus_[g]];
      netGpu_[n * ng + g] = toGpu[g][nets_[n]];
    }

  // ncclTopoComputePaths: traffic between GPUs that may not use P2P goes through the CPU next to
  // the receiver; GPUs without GPU-direct RDMA reach the NIC through their own CPU.
  const int level = p2pLevel();
  auto viaCpu = [&](int fromNode, int cpuIndex, const Path& cpuToDst) {
    return join(toCpuNode[cpuIndex][fromNode], cpuToDst);
  };
  for (int b = 0; b < ng; ++b) {
    const int cpuIndex = localCpu_[b];
    const int cpu = cpus_[cpuIndex];
    for (int a = 0; a < ng; ++a) {
      if (a == b) continue;
      const bool levelOk = static_cast<int>(directType_[a * ng + b]) <= level;
      p2p_[a * ng + b] = levelOk && p2pSupported_;
      // 2.18 only learns that the driver refuses P2P in the transport; its paths stay direct.
      const bool detour = release_ == Release::k2_18 ? !levelOk : !p2p_[a * ng + b];
      if (detour) gpuGpu_[a * ng + b] = viaCpu(gpus_[a], cpuIndex, toGpu[b][cpu]);
      if (!p2p_[a * ng + b] && knobs_.shmDisable) gpuGpu_[a * ng + b].type = PathType::kNet;
    }
    for (int n = 0; n < nn; ++n) {
      if (gdr(b, n, false)) continue;
      netGpu_[n * ng + b] = viaCpu(nets_[n], cpuIndex, toGpu[b][cpu]);
      gpuNet_[b * nn + n] = viaCpu(gpus_[b], cpuIndex, toNet[n][cpu]);
    }
  }

  // ncclTopoSearchInit.
  if (!inter_ && ng == 1) {
    maxBw_ = kLocBw;
    totalBw_ = release_ == Release::k2_18 ? 0 : kLocBw;
  } else {
    for (int g = 0; g < ng; ++g) {
      for (int o = 0; o < (inter_ ? nn : ng); ++o) {
        const Path& p = inter_ ? gpuToNet(g, o) : gpuToGpu(g, o);
        if (!p.links.empty()) maxBw_ = std::max(maxBw_, p.bw);
      }
      totalBw_ = std::max(totalBw_, links_[gpuPciLink(g)].bw);
    }
  }
}

std::vector<System::Path> System::pathsTo(int base) const {
  // Breadth first from `base`, as ncclTopoSetPaths: the widest of the shortest paths, never
  // through a GPU; the type is the widest of the link types crossed.
  std::vector<Path> paths(nodes_.size());
  paths[base].bw = kLocBw;
  paths[base].type = PathType::kLoc;
  std::vector<int> layer{base};
  while (!layer.empty()) {
    std::vector<int> next;
    for (int node : layer) {
      const Path& path = paths[node];
      for (int l : nodes_[node].links) {
        const int rem = links_[l].to;
        if (node != base && nodes_[node].kind == NodeKind::kGpu) continue;
        Path& remPath = paths[rem];
        const float bw = std::min(path.bw, links_[l].bw);
        const bool unset = remPath.bw == 0;
        if (!((unset || remPath.links.size() > path.links.size()) && remPath.bw < bw)) continue;
        remPath.links.assign(1, reverse_[l]);
        remPath.links.insert(remPath.links.end(), path.links.begin(), path.links.end());
        remPath.bw = bw;
        PathType type = PathType::kLoc;
        const NodeKind a = nodes_[node].kind, b = nodes_[rem].kind;
        switch (links_[l].kind) {
          case LinkKind::kNet:
            type = PathType::kLoc;
            break;
          case LinkKind::kSys:
            type = PathType::kSys;
            break;
          case LinkKind::kPci:
            type = PathType::kPix;
            if (a == NodeKind::kPci && b == NodeKind::kPci) type = PathType::kPxb;
            if (a == NodeKind::kCpu || b == NodeKind::kCpu) type = PathType::kPhb;
            break;
        }
        remPath.type = std::max(path.type, type);
        if (std::find(next.begin(), next.end(), rem) == next.end()) next.push_back(rem);
      }
    }
    layer = std::move(next);
  }
  for (size_t n = 0; n < paths.size(); ++n)
    if (static_cast<int>(n) != base && paths[n].bw == 0) paths[n].type = PathType::kDis;
  return paths;
}

System::Path System::join(const Path& a, const Path& b) const {
  Path p;
  p.links = a.links;
  p.links.insert(p.links.end(), b.links.begin(), b.links.end());
  p.bw = std::min(a.bw, b.bw);
  p.type = std::max(a.type, b.type);
  return p;
}

int System::gpuPciLink(int g) const {
  for (int l : nodes_[gpus_[g]].links)
    if (isPathLink(links_[l].kind)) return l;
  return nodes_[gpus_[g]].links.front();
}

int System::p2pLevel() const {
  if (knobs_.p2pLevel) return static_cast<int>(*knobs_.p2pLevel);
  if (release_ == Release::k2_18)  // "In general, use P2P whenever we can", but not on Intel
    return static_cast<int>(cpu_.vendor == CpuVendor::kIntel ? PathType::kPxb : PathType::kSys);
  // 2.23 and later: not across host bridges, except between the two GPUs of an AMD host.
  if (cpu_.vendor == CpuVendor::kAmd && gpuCount() <= 2) return static_cast<int>(PathType::kSys);
  return static_cast<int>(PathType::kPxb);
}

bool System::gdr(int g, int n, bool read) const {
  if (!nicGdr_) return false;  // the NIC (and, we assume, the GPU) must support it
  if (read) {
    const int param = knobs_.netGdrRead.value_or(-2);
    if (param == 0) return false;
    // Reads are kept for NVLink systems (2.18), or pre-Ampere GPUs with NVLink (2.19 and later);
    // "it's better to keep things local if we have a single GPU".
    const bool gated = release_ == Release::k2_18 || nodes_[gpus_[g]].cc < 80;
    if (param < 0 && gated && gpuCount() > 1) return false;
  }
  const PathType level = knobs_.netGdrLevel.value_or(PathType::kPxb);
  // The distance is the path before any detour (paths.cc checks it before rerouting).
  return directNetType_[g * netCount() + n] <= level;
}

bool System::netBeatsIntra(int a, int b) const {
  if (netCount() == 0) return false;
  const float speed = gpuToGpu(a, b).bw;
  auto netSpeed = [&](int g) {
    float best = 0;
    for (int n = 0; n < netCount(); ++n) {
      const Path& p = gpuToNet(g, n);
      if (p.type <= PathType::kPxb) best = std::max(best, p.bw);
    }
    return best;
  };
  return netSpeed(a) > speed && netSpeed(b) > speed;
}

int System::minCompCap() const {
  int cc = 1000;
  for (int g : gpus_) cc = std::min(cc, nodes_[g].cc);
  return cc;
}

std::vector<int> System::localGpus(int n) const {
  // ncclTopoGetLocal: the GPUs with the widest path from the NIC, then the narrowest type.
  std::vector<int> out;
  float bw = 0;
  PathType type = PathType::kDis;
  for (int g = 0; g < gpuCount(); ++g) {
    const Path& p = netToGpu(n, g);
    if (p.bw > bw || (p.bw == bw && p.type < type)) {
      bw = p.bw;
      type = p.type;
      out.clear();
    }
    if (p.bw == bw && p.type == type) out.push_back(g);
  }
  return out;
}

}  // namespace tccl::nccl
