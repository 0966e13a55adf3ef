#include "core/network_choice.h"

#include <map>
#include <mutex>
#include <tuple>

#include "base/error.h"
#include "transport/net_plugin/net_plugin_loader.h"

namespace tccl {
namespace {

struct Choice {
  ncclResult_t result = ncclSuccess;
  std::string error;  // the message of a failed choice, repeated to every later init
  std::shared_ptr<NetPlugin> plugin;
};

}  // namespace

ncclResult_t commNetwork(const std::string& configNetName, std::shared_ptr<NetPlugin>* out) {
  static std::mutex mutex;
  // By what was asked: NCCL_NET_PLUGIN (set or not, its value) and the network's name.
  static std::map<std::tuple<bool, std::string, std::string>, Choice> choices;
  NetPluginEnv env = readNetPluginEnv();
  if (!configNetName.empty()) env.net = configNetName;
  const auto key = std::make_tuple(env.pluginSet, env.plugin, env.net);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = choices.find(key);
  if (it == choices.end()) {
    Choice c;
    NetworkChoice network;
    c.result = chooseNetwork(env, &network);
    if (c.result != ncclSuccess) c.error = lastThreadError();
    c.plugin = network.plugin;
    it = choices.emplace(key, std::move(c)).first;
  }
  if (it->second.result != ncclSuccess)
    return setError(it->second.result, "%s", it->second.error.c_str());
  *out = it->second.plugin;
  return ncclSuccess;
}

}  // namespace tccl
