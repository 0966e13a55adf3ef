#include "core/plugin_nic_setup.h"

#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "base/log.h"
#include "core/communicator.h"
#include "transport/net_plugin/net_plugin_nics.h"

namespace tccl {
namespace {

// Every communicator of a process maps the same devices onto the same node: say it once.
bool firstTimeFor(const NetPlugin* net, const std::string& topologyName) {
  static std::mutex mutex;
  static std::set<std::pair<const NetPlugin*, std::string>> said;
  std::lock_guard<std::mutex> lock(mutex);
  return said.emplace(net, topologyName).second;
}

}  // namespace

std::optional<topo::Topology> setupPluginNics(ncclComm* comm, const topo::Topology* topology,
                                              const std::string& whyNone) {
  const NetPlugin* net = comm->netPlugin.get();
  if (!net) return std::nullopt;
  if (!topology) {
    auto map = std::make_shared<topo::PluginNicMap>();
    map->whyNone = "the node's topology is unknown (" + whyNone + ")";
    if (firstTimeFor(net, ""))
      INFO(kLogInit | kLogNet, "NET/%s: devices not mapped to NICs: %s", net->name().c_str(),
           map->whyNone.c_str());
    comm->pluginNics = std::move(map);
    return std::nullopt;
  }
  topo::PluginNicMerge merged = mergePluginNics(*net, *topology);
  if (firstTimeFor(net, topology->name)) {
    for (const std::string& line : describePluginNics(*net, merged))
      INFO(kLogInit | kLogNet, "%s", line.c_str());
    for (const std::string& w : merged.warnings)
      INFO(kLogInit | kLogNet, "NET/%s: %s", net->name().c_str(), w.c_str());
  }
  comm->pluginNics = std::make_shared<const topo::PluginNicMap>(std::move(merged.map));
  return std::move(merged.topology);
}

}  // namespace tccl
