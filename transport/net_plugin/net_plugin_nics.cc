#include "transport/net_plugin/net_plugin_nics.h"

namespace tccl {

std::vector<topo::PluginNetDevice> pluginNetDevices(const NetPlugin& net) {
  std::vector<topo::PluginNetDevice> devices;
  for (int d = 0; d < net.deviceCount(); ++d) {
    const NetDeviceProperties& p = net.device(d);
    devices.push_back({.name = p.name,
                       .pciPath = p.pciPath,
                       .speedMbps = p.speedMbps,
                       .port = p.port,
                       .latencyUs = p.latencyUs,
                       .gpuDirect = (p.ptrSupport & (netabi::kPtrCuda | netabi::kPtrDmaBuf)) != 0});
  }
  return devices;
}

topo::PluginNicMerge mergePluginNics(const NetPlugin& net, const topo::Topology& topology) {
  return topo::mergePluginDevices(topology, pluginNetDevices(net), topo::liveNumaLocator());
}

std::vector<std::string> describePluginNics(const NetPlugin& net, const topo::PluginNicMerge& m) {
  std::vector<std::string> lines;
  for (int d = 0; d < net.deviceCount(); ++d) {
    const NetDeviceProperties& p = net.device(d);
    const int nic = m.map.nicOfDevice.at(static_cast<size_t>(d));
    const topo::Nic& n = m.topology.nics.at(static_cast<size_t>(nic));
    lines.push_back("NET/" + net.name() + " dev " + std::to_string(d) + " '" + p.name +
                    "' pciPath " + (p.pciPath.empty() ? "(none)" : p.pciPath) + " -> NIC " +
                    std::to_string(nic) + " (" + n.name + (nic >= m.foundNics ? ", added" : "") +
                    ") NUMA node " + std::to_string(n.numa) + ", " + std::to_string(p.speedMbps) +
                    " Mbps");
  }
  return lines;
}

std::string pluginNicReport(const NetPlugin& net, const topo::PluginNicMerge& m) {
  std::string out = "network: NET/" + net.name() + " from " + net.library() + " (ABI v" +
                    std::to_string(net.abiVersion()) + "), " + std::to_string(net.deviceCount()) +
                    " device(s) on the NICs of node '" + m.topology.name + "':\n";
  for (const std::string& line : describePluginNics(net, m)) out += "  " + line + "\n";
  for (const std::string& w : m.warnings) out += "  warning: " + w + "\n";
  return out;
}

}  // namespace tccl
