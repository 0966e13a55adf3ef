// A net plugin's devices among the node's NICs (topo/plugin_nics.h), as the runtime, the
// pathfinder and `tccl-db explain` all map them: the same merge, the same lines.
#pragma once

#include <string>
#include <vector>

#include "topo/plugin_nics.h"
#include "transport/net_plugin/net_plugin.h"

namespace tccl {

// The plugin's devices as getProperties described them.
std::vector<topo::PluginNetDevice> pluginNetDevices(const NetPlugin& net);

// The plugin's devices merged into `topology`, placed through this machine's sysfs and hwloc.
topo::PluginNicMerge mergePluginNics(const NetPlugin& net, const topo::Topology& topology);

// One line per plugin device, NCCL style: "NET/<name> dev 0 'mlx5_0' pciPath /sys/... -> NIC 1
// (mlx5_0) NUMA node 0, 100000 Mbps".
std::vector<std::string> describePluginNics(const NetPlugin& net, const topo::PluginNicMerge& m);

// What the tools print: a line naming the plugin, its library and ABI and the topology, then
// describePluginNics' lines and the merge's warnings, indented.
std::string pluginNicReport(const NetPlugin& net, const topo::PluginNicMerge& m);

}  // namespace tccl
