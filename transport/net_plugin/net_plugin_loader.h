// Loading NCCL net plugins and choosing the network for NIC hops, the way NCCL 2.28 does
// (src/plugin/net.cc, src/plugin/plugin_open.cc):
// - NCCL_NET_PLUGIN unset: libnccl-net.so, silently skipped when absent. Set: a comma-separated
//   list, each entry first opened as given (a library name searched by the dynamic loader, or
//   a path), then, when it is neither a path nor "lib*.so", as libnccl-net-<entry>.so.
//   "none" (or an empty value) loads nothing.
// - From each library the newest table exported among ncclNetPlugin_v10 ... v6 is used.
// - NCCL_NET picks a network by name (case-insensitive): a plugin's, or "Socket", TCCL's own
//   TCP transport, which is also what NIC hops use when no plugin can be used. Plugins of
//   another name are not initialized; NCCL_NET=Socket loads none.
// - A plugin that cannot be loaded or initialized costs one WARN line and the next candidate
//   (finally Socket) is used, unless NCCL_NET named a network that nothing provides: that is
//   an error. (NCCL says INFO where TCCL warns; the absent default library stays an INFO.)
// An initialized plugin stays loaded and initialized until the process exits: ABIs before v11
// have no finalize, and NCCL initializes them once per process too.
#pragma once

#include <nccl.h>

#include <memory>
#include <string>

#include "transport/net_plugin/net_plugin.h"

namespace tccl {

constexpr const char* kBuiltinNetName = "Socket";

struct NetPluginEnv {
  bool pluginSet = false;  // NCCL_NET_PLUGIN is present (even empty)
  std::string plugin;      // its value
  std::string net;         // NCCL_NET; empty: the first network that works
};
NetPluginEnv readNetPluginEnv();

// The network of a communicator's NIC hops.
struct NetworkChoice {
  std::shared_ptr<NetPlugin> plugin;  // null: TCCL's own TCP transport
  std::string name() const { return plugin ? plugin->name() : kBuiltinNetName; }
};

ncclResult_t chooseNetwork(const NetPluginEnv& env, NetworkChoice* out);

}  // namespace tccl
