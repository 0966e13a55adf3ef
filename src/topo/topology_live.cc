// Live discovery through hwloc: NUMA nodes, sockets, PCIe bridges, GPUs and NICs.
// hwloc gives structure and PCIe link speeds; fabric, memory and congestion numbers are not
// discoverable, so they get conservative illustrative defaults (docs/topology-format.md).
#include <hwloc.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/hwloc_library.h"
#include "topo/plugin_nics.h"
#include "topo/topology.h"

namespace tccl::topo {
namespace {

struct HwlocDeleter {
  void operator()(hwloc_topology* t) const { hwloc_topology_destroy(t); }
};
using HwlocTopology = std::unique_ptr<hwloc_topology, HwlocDeleter>;

constexpr double kDefaultLinkGbps = 12;    // PCIe 3.0 x16 effective, when hwloc has no speed
constexpr double kDefaultMemoryGbps = 40;  // illustrative
constexpr double kDefaultFabricGbps = 20;  // illustrative

bool isGpu(hwloc_obj_t dev) {
  unsigned cls = dev->attr->pcidev.class_id >> 8;
  unsigned vendor = dev->attr->pcidev.vendor_id;
  return cls == 0x03 && (vendor == 0x10de || vendor == 0x1002);
}

bool isNic(hwloc_obj_t dev) {
  unsigned cls = dev->attr->pcidev.class_id;
  return (cls >> 8) == 0x02 || cls == 0x0c06;  // network controller, InfiniBand
}

std::string busIdOf(hwloc_obj_t dev) {
  char buf[32];
  snprintf(buf, sizeof buf, "%04x:%02x:%02x.%01x", dev->attr->pcidev.domain, dev->attr->pcidev.bus,
           dev->attr->pcidev.dev, dev->attr->pcidev.func);
  return buf;
}

double linkOf(hwloc_obj_t dev) {
  float speed = dev->attr->pcidev.linkspeed;
  return speed > 0 ? speed : kDefaultLinkGbps;
}

int numaOf(hwloc_topology_t topo, hwloc_obj_t dev) {
  hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, dev);
  if (!anc || !anc->nodeset) return 0;
  int first = hwloc_bitmap_first(anc->nodeset);
  hwloc_obj_t node = hwloc_get_numanode_obj_by_os_index(topo, first < 0 ? 0 : first);
  return node ? static_cast<int>(node->logical_index) : 0;
}

std::string nameOfNic(hwloc_obj_t dev) {
  for (hwloc_obj_t child = dev->io_first_child; child; child = child->next_sibling)
    if (child->type == HWLOC_OBJ_OS_DEVICE && child->name) return child->name;
  return busIdOf(dev);
}

// Builds the PCIe ancestry of a device as topology PCIe nodes; returns the direct parent index.
class PcieTreeBuilder {
 public:
  explicit PcieTreeBuilder(Topology& t) : t_(t) {}

  int parentOf(hwloc_obj_t dev, int numa) {
    std::vector<hwloc_obj_t> bridges;  // bottom-up PCI-to-PCI bridges
    for (hwloc_obj_t p = dev->parent; p && p->type == HWLOC_OBJ_BRIDGE; p = p->parent)
      if (p->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI) bridges.push_back(p);
    int parent = -1;
    if (bridges.empty()) return rootFor(nullptr, numa, linkOf(dev));
    for (auto it = bridges.rbegin(); it != bridges.rend(); ++it) {
      hwloc_obj_t b = *it;
      auto found = ids_.find(b);
      if (found != ids_.end()) {
        parent = found->second;
        continue;
      }
      if (parent < 0) {
        parent = rootFor(b, numa, linkOf(b));
        continue;
      }
      PcieNode node;
      node.id = "sw-" + busIdOf(b);
      node.kind = PcieKind::kSwitch;
      node.parent = parent;
      node.numa = numa;
      node.upGbps = node.downGbps = linkOf(b);
      t_.pcie.push_back(node);
      parent = static_cast<int>(t_.pcie.size()) - 1;
      ids_[b] = parent;
    }
    return parent;
  }

 private:
  int rootFor(hwloc_obj_t bridge, int numa, double gbps) {
    PcieNode node;
    node.id = bridge ? "rp-" + busIdOf(bridge) : "rc-numa" + std::to_string(numa);
    node.kind = PcieKind::kRootPort;
    node.numa = numa;
    node.upGbps = node.downGbps = gbps;
    if (!bridge) {
      for (size_t i = 0; i < t_.pcie.size(); ++i)
        if (t_.pcie[i].id == node.id) return static_cast<int>(i);
    }
    t_.pcie.push_back(node);
    int index = static_cast<int>(t_.pcie.size()) - 1;
    if (bridge) ids_[bridge] = index;
    return index;
  }

  Topology& t_;
  std::map<hwloc_obj_t, int> ids_;
};

}  // namespace

LoadedTopology discoverLiveTopology() {
  std::string why;
  if (!hwlocLibraryLoaded(&why)) return {std::nullopt, "live: libhwloc cannot be loaded: " + why};
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) return {std::nullopt, "live: hwloc_topology_init failed"};
  HwlocTopology topo(raw);
  hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (hwloc_topology_load(raw) != 0) return {std::nullopt, "live: hwloc_topology_load failed"};

  Topology t;
  t.name = "live";
  t.description = "discovered through hwloc; fabric, memory and congestion numbers are defaults";
  hwloc_obj_t root = hwloc_get_root_obj(raw);
  hwloc_obj_t pkg0 = hwloc_get_obj_by_type(raw, HWLOC_OBJ_PACKAGE, 0);
  const char* model = pkg0 ? hwloc_obj_get_info_by_name(pkg0, "CPUModel") : nullptr;
  if (!model) model = hwloc_obj_get_info_by_name(root, "CPUModel");
  t.cpuModel = model ? model : "unknown";

  int nSockets = std::max(1, hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_PACKAGE));
  t.sockets.assign(nSockets, Socket{kDefaultFabricGbps});
  int nNuma = std::max(1, hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_NUMANODE));
  for (int i = 0; i < nNuma; ++i) {
    NumaNode n{0, kDefaultMemoryGbps, kDefaultFabricGbps};
    hwloc_obj_t node = hwloc_get_obj_by_type(raw, HWLOC_OBJ_NUMANODE, i);
    hwloc_obj_t pkg =
        node ? hwloc_get_ancestor_obj_by_type(raw, HWLOC_OBJ_PACKAGE, node->parent) : nullptr;
    if (pkg) n.socket = std::min(static_cast<int>(pkg->logical_index), nSockets - 1);
    t.numaNodes.push_back(n);
  }
  t.illustrative.push_back(
      "all memory, fabric and socket-link numbers (hwloc cannot measure them)");
  t.measured.push_back("PCIe link speeds as reported by hwloc");

  PcieTreeBuilder tree(t);
  std::vector<std::pair<std::string, hwloc_obj_t>> gpus;
  for (hwloc_obj_t dev = hwloc_get_next_pcidev(raw, nullptr); dev;
       dev = hwloc_get_next_pcidev(raw, dev)) {
    if (isGpu(dev)) gpus.emplace_back(busIdOf(dev), dev);
    if (isNic(dev)) {
      Nic nic;
      nic.name = nameOfNic(dev);
      nic.busId = busIdOf(dev);
      nic.numa = numaOf(raw, dev);
      nic.parent = tree.parentOf(dev, nic.numa);
      nic.upGbps = nic.downGbps = nic.wireGbps = linkOf(dev);
      t.nics.push_back(nic);
    }
  }
  std::sort(gpus.begin(), gpus.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [busId, dev] : gpus) {
    Gpu g;
    g.busId = busId;
    char name[64];
    snprintf(name, sizeof name, "pci %04x:%04x", dev->attr->pcidev.vendor_id,
             dev->attr->pcidev.device_id);
    const char* pciName = hwloc_obj_get_info_by_name(dev, "PCIDevice");
    g.model = pciName ? pciName : name;
    g.numa = numaOf(raw, dev);
    g.parent = tree.parentOf(dev, g.numa);
    g.upGbps = g.downGbps = linkOf(dev);
    t.gpus.push_back(g);
  }
  return {t, ""};
}

PciNumaLocator liveNumaLocator() {
  // Loaded on the first question; null when hwloc cannot be used (then sysfs alone answers).
  auto hwloc = std::make_shared<std::optional<HwlocTopology>>();
  const PciNumaLocator sysfs = sysfsNumaLocator("");
  return
      [hwloc, sysfs](const std::string& pciPath, const std::string& busId) -> std::optional<int> {
        if (!*hwloc) {
          hwloc_topology_t raw = nullptr;
          HwlocTopology topo;
          if (hwlocLibraryLoaded() && hwloc_topology_init(&raw) == 0) {
            topo.reset(raw);
            hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
            if (hwloc_topology_load(raw) != 0) topo.reset();
          }
          *hwloc = std::move(topo);
        }
        hwloc_topology_t raw = (*hwloc)->get();
        const std::optional<int> os = sysfs(pciPath, busId);
        if (!raw) return os;
        if (os) {  // sysfs numbers NUMA nodes as the OS does; the topology as hwloc does
          hwloc_obj_t node = hwloc_get_numanode_obj_by_os_index(raw, static_cast<unsigned>(*os));
          if (node) return static_cast<int>(node->logical_index);
        }
        for (hwloc_obj_t dev = hwloc_get_next_pcidev(raw, nullptr); dev;
             dev = hwloc_get_next_pcidev(raw, dev))
          if (busIdOf(dev) == busId) return numaOf(raw, dev);
        return std::nullopt;
      };
}

}  // namespace tccl::topo
