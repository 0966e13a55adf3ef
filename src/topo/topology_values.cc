// The named values of a topology and their provenance labels.
#include "topo/topology.h"

namespace tccl::topo {

std::vector<TopologyValue> topologyValues(Topology& t) {
  std::vector<TopologyValue> v;
  auto at = [](const char* list, size_t i, const char* field) {
    return std::string(list) + "[" + std::to_string(i) + "]." + field;
  };
  v.push_back({"p2p_supported", nullptr, nullptr, &t.p2pSupported});
  for (size_t i = 0; i < t.sockets.size(); ++i)
    v.push_back({at("sockets", i, "link_gbps"), &t.sockets[i].linkGbps});
  for (size_t i = 0; i < t.numaNodes.size(); ++i) {
    v.push_back({at("numa_nodes", i, "memory_gbps"), &t.numaNodes[i].memoryGbps});
    v.push_back({at("numa_nodes", i, "fabric_gbps"), &t.numaNodes[i].fabricGbps});
  }
  for (size_t i = 0; i < t.pcie.size(); ++i) {
    v.push_back({at("pcie", i, "up_gbps"), &t.pcie[i].upGbps});
    v.push_back({at("pcie", i, "down_gbps"), &t.pcie[i].downGbps});
  }
  for (size_t i = 0; i < t.gpus.size(); ++i) {
    v.push_back({at("gpus", i, "up_gbps"), &t.gpus[i].upGbps});
    v.push_back({at("gpus", i, "down_gbps"), &t.gpus[i].downGbps});
  }
  for (size_t i = 0; i < t.nics.size(); ++i) {
    v.push_back({at("nics", i, "up_gbps"), &t.nics[i].upGbps});
    v.push_back({at("nics", i, "down_gbps"), &t.nics[i].downGbps});
    v.push_back({at("nics", i, "wire_gbps"), &t.nics[i].wireGbps});
    v.push_back({at("nics", i, "gpu_direct"), nullptr, nullptr, &t.nics[i].gpuDirect});
  }
  TransferEfficiency& e = t.efficiency;
  for (auto [name, value] : {std::pair{"p2p_write", &e.p2pWrite},
                             {"p2p_read", &e.p2pRead},
                             {"host_bounce", &e.hostBounce},
                             {"net_gpu_direct", &e.netGpuDirect},
                             {"net_staged", &e.netStaged}})
    v.push_back({std::string("efficiency.") + name, value, nullptr, nullptr, true});
  for (size_t i = 0; i < t.congestionRules.size(); ++i) {
    CongestionRule& r = t.congestionRules[i];
    if (r.kind == RuleKind::kRemoteHostAccess) {
      v.push_back(
          {at("congestion_rules", i, "read_factor"), &r.readFactor, nullptr, nullptr, true});
      v.push_back(
          {at("congestion_rules", i, "write_factor"), &r.writeFactor, nullptr, nullptr, true});
      continue;
    }
    v.push_back({at("congestion_rules", i, "factor"), &r.factor, nullptr, nullptr, true});
    if (r.kind == RuleKind::kBounceBuffersOnOneNuma)
      v.push_back({at("congestion_rules", i, "min_transfers"), nullptr, &r.minTransfers});
  }
  return v;
}

bool labelCovers(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0;
  while (p < pattern.size() && n < name.size()) {
    if (pattern.substr(p, 3) == "[*]") {
      if (name[n] != '[') return false;
      const size_t close = name.find(']', n);
      if (close == std::string_view::npos) return false;
      p += 3;
      n = close + 1;
      continue;
    }
    if (pattern[p] != name[n]) return false;
    ++p;
    ++n;
  }
  return p == pattern.size() && n == name.size();
}

const ValueLabel* labelOf(const Topology& topo, std::string_view name) {
  const ValueLabel* best = nullptr;
  bool bestExact = false;
  for (const ValueLabel& l : topo.labels)
    for (const std::string& pattern : l.values) {
      if (!labelCovers(pattern, name)) continue;
      const bool exact = pattern == name;
      if (!best || exact || !bestExact) {
        best = &l;
        bestExact = exact;
      }
    }
  return best;
}

}  // namespace tccl::topo
