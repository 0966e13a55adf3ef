// The network devices that an NCCL net plugin reports, placed among a topology's NICs, so that
// the pathfinder, `tccl-db explain` and the runtime see the same NICs and agree on which plugin
// device carries which NIC hop. The merge is pure: where a PCI device's NUMA node is comes from
// a locator (sysfs under a given root, or the live machine through hwloc).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topo/topology.h"

namespace tccl::topo {

// One device as the plugin's getProperties describes it.
struct PluginNetDevice {
  std::string name;
  // Its /sys directory, e.g. /sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0; empty: virtual.
  std::string pciPath;
  int speedMbps = 0;
  int port = 0;
  float latencyUs = 0;
  bool gpuDirect = false;  // ptrSupport has NCCL_PTR_CUDA or NCCL_PTR_DMABUF
};

// The topology NUMA node of the PCI device at `pciPath` (bus id `busId`), or nullopt when
// unknown.
using PciNumaLocator =
    std::function<std::optional<int>(const std::string& pciPath, const std::string& busId)>;
// Reads <sysfsRoot><pciPath>/numa_node (the OS's number; -1 or no file: unknown).
PciNumaLocator sysfsNumaLocator(std::string sysfsRoot);
// This machine: /sys, numbered as hwloc numbers NUMA nodes, else hwloc's PCI object of the bus
// id (topology_live.cc).
PciNumaLocator liveNumaLocator();

// Which plugin device goes with which topology NIC.
struct PluginNicMap {
  std::vector<int> nicOfDevice;  // per plugin device: its topology NIC index
  std::vector<int> deviceOfNic;  // per topology NIC: the first plugin device on it, -1: none
  std::string whyNone;           // set when there was no topology to map onto
};

struct PluginNicMerge {
  Topology topology;  // the input's NICs first, then one NIC per device that matched none
  PluginNicMap map;
  int foundNics = 0;                  // NICs [0, foundNics) were in the input topology
  std::vector<std::string> warnings;  // devices placed by guess, and why
};

// The PCI bus id that ends a pciPath ("0000:3b:00.0", lower case); nullopt when its last
// component is not one.
std::optional<std::string> pciBusIdOfPath(std::string_view pciPath);

// Matches each device to a NIC of `topology` by PCI bus id; a device that matches none is
// added as a NIC on its pciPath's NUMA node (under its nearest PCIe ancestor in the topology,
// else the NUMA node's first root port), or on NUMA node 0 with a warning when that is
// unknown. Devices sharing a bus id (the ports of one card) share its NIC.
PluginNicMerge mergePluginDevices(const Topology& topology,
                                  const std::vector<PluginNetDevice>& devices,
                                  const PciNumaLocator& numaOf);

// The plugin device of a NIC hop through topology NIC `nic` (-1: the plan names none, NIC 0):
// the device mapped to it, else `nic` modulo deviceCount with *why saying why.
int pluginDeviceForNic(const PluginNicMap* map, int nic, int deviceCount, std::string* why);

}  // namespace tccl::topo
