#include "topo/plugin_nics.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

namespace tccl::topo {
namespace {

// "dddd:bb:dd.f" in hex digits.
bool isBusId(std::string_view s) {
  if (s.size() != 12) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char want = i == 4 || i == 7 ? ':' : i == 10 ? '.' : 'x';
    if (want == 'x' ? !std::isxdigit(static_cast<unsigned char>(s[i])) : s[i] != want) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The bus ids of the pciPath's bridges, nearest first.
std::vector<std::string> ancestorBusIds(std::string_view pciPath) {
  std::vector<std::string> ids;
  size_t end = pciPath.find_last_of('/');
  while (end != std::string_view::npos && end > 0) {
    const size_t start = pciPath.find_last_of('/', end - 1);
    const std::string_view part =
        pciPath.substr(start == std::string_view::npos ? 0 : start + 1,
                       end - (start == std::string_view::npos ? 0 : start + 1));
    if (isBusId(part)) ids.push_back(lower(part));
    end = start;
  }
  return ids;
}

// The PCIe node of the topology named after bus id `busId`: live discovery names them
// "rp-<bus id>" and "sw-<bus id>"; a topology file may use the bus id itself.
int pcieNodeOf(const Topology& t, const std::string& busId) {
  for (size_t i = 0; i < t.pcie.size(); ++i) {
    const std::string id = lower(t.pcie[i].id);
    if (id == busId || id == "rp-" + busId || id == "sw-" + busId) return static_cast<int>(i);
  }
  return -1;
}

int rootPortOf(Topology& t, int numa, double gbps) {
  for (size_t i = 0; i < t.pcie.size(); ++i)
    if (t.pcie[i].kind == PcieKind::kRootPort && t.pcie[i].numa == numa) return static_cast<int>(i);
  PcieNode node;
  node.id = "rc-numa" + std::to_string(numa);
  node.kind = PcieKind::kRootPort;
  node.numa = numa;
  node.upGbps = node.downGbps = gbps;
  t.pcie.push_back(node);
  return static_cast<int>(t.pcie.size()) - 1;
}

constexpr double kUnknownLinkGbps = 12;  // PCIe 3.0 x16, as live discovery assumes

// Adds device `dev` as a NIC; returns its index.
int addNic(PluginNicMerge& m, int dev, const PluginNetDevice& d,
           const std::optional<std::string>& busId, const PciNumaLocator& numaOf) {
  Topology& t = m.topology;
  const std::string who = "plugin device " + std::to_string(dev) + " '" + d.name + "'";
  std::optional<int> numa;
  int parent = -1;
  if (busId) {
    if (numaOf) numa = numaOf(d.pciPath, *busId);
    for (const std::string& anc : ancestorBusIds(d.pciPath)) {
      const int p = pcieNodeOf(t, anc);
      if (p >= 0 && (!numa || t.pcie[p].numa == *numa)) {
        parent = p;
        numa = t.pcie[p].numa;
        break;
      }
    }
  }
  if (numa && (*numa < 0 || *numa >= static_cast<int>(t.numaNodes.size()))) {
    m.warnings.push_back(who + ": pciPath '" + d.pciPath + "' is on NUMA node " +
                         std::to_string(*numa) + ", which the topology lacks (it has " +
                         std::to_string(t.numaNodes.size()) + "); placed on NUMA node 0");
    numa = 0;
  } else if (!numa) {
    if (d.pciPath.empty())
      m.warnings.push_back(who + " reports no pciPath (a virtual NIC); placed on NUMA node 0");
    else if (!busId)
      m.warnings.push_back(who + ": pciPath '" + d.pciPath +
                           "' does not end in a PCI bus id (dddd:bb:dd.f); placed on NUMA node 0");
    else
      m.warnings.push_back(who + ": the NUMA node of pciPath '" + d.pciPath +
                           "' is unknown; placed on NUMA node 0");
    numa = 0;
  }
  const double wire = d.speedMbps > 0 ? d.speedMbps / 8000.0 : 0;  // Mbit/s -> GB/s
  if (parent < 0) parent = rootPortOf(t, *numa, wire > 0 ? wire : kUnknownLinkGbps);
  Nic nic;
  nic.name = d.name;
  nic.busId = busId.value_or("");
  nic.numa = *numa;
  nic.parent = parent;
  nic.upGbps = nic.downGbps = t.pcie[parent].downGbps;
  nic.wireGbps = wire > 0 ? wire : nic.upGbps;
  if (wire <= 0)
    m.warnings.push_back(who + " reports no speed; its wire rate is taken as its PCIe link's");
  nic.gpuDirect = d.gpuDirect;
  t.nics.push_back(nic);
  return static_cast<int>(t.nics.size()) - 1;
}

}  // namespace

std::optional<std::string> pciBusIdOfPath(std::string_view pciPath) {
  while (!pciPath.empty() && pciPath.back() == '/') pciPath.remove_suffix(1);
  const size_t slash = pciPath.find_last_of('/');
  const std::string_view last =
      slash == std::string_view::npos ? pciPath : pciPath.substr(slash + 1);
  if (!isBusId(last)) return std::nullopt;
  return lower(last);
}

PciNumaLocator sysfsNumaLocator(std::string sysfsRoot) {
  return [root = std::move(sysfsRoot)](const std::string& pciPath,
                                       const std::string&) -> std::optional<int> {
    std::ifstream in(root + pciPath + "/numa_node");
    int numa = -1;
    if (!(in >> numa) || numa < 0) return std::nullopt;
    return numa;
  };
}

PluginNicMerge mergePluginDevices(const Topology& topology,
                                  const std::vector<PluginNetDevice>& devices,
                                  const PciNumaLocator& numaOf) {
  PluginNicMerge m;
  m.topology = topology;
  m.foundNics = static_cast<int>(topology.nics.size());
  for (size_t dev = 0; dev < devices.size(); ++dev) {
    const PluginNetDevice& d = devices[dev];
    const std::optional<std::string> busId = pciBusIdOfPath(d.pciPath);
    int nic = -1;
    if (busId)
      for (size_t i = 0; i < m.topology.nics.size() && nic < 0; ++i)
        if (lower(m.topology.nics[i].busId) == *busId) nic = static_cast<int>(i);
    if (nic < 0) nic = addNic(m, static_cast<int>(dev), d, busId, numaOf);
    m.map.nicOfDevice.push_back(nic);
  }
  m.map.deviceOfNic.assign(m.topology.nics.size(), -1);
  for (size_t dev = devices.size(); dev-- > 0;)
    m.map.deviceOfNic[m.map.nicOfDevice[dev]] = static_cast<int>(dev);
  return m;
}

int pluginDeviceForNic(const PluginNicMap* map, int nic, int deviceCount, std::string* why) {
  if (why) why->clear();
  if (nic < 0) nic = 0;
  if (deviceCount <= 0) {
    if (why) *why = "the plugin has no devices";
    return -1;
  }
  if (!map) {
    if (why) *why = "plugin devices are not mapped to NICs";
  } else if (!map->whyNone.empty()) {
    if (why) *why = map->whyNone;
  } else if (nic >= static_cast<int>(map->deviceOfNic.size())) {
    if (why) *why = "the topology has no NIC " + std::to_string(nic);
  } else if (const int dev = map->deviceOfNic[nic]; dev < 0 || dev >= deviceCount) {
    if (why) *why = "no plugin device is on NIC " + std::to_string(nic);
  } else {
    return dev;
  }
  return nic % deviceCount;
}

}  // namespace tccl::topo
