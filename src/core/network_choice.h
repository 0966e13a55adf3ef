// The network of a communicator's hops between nodes: TCCL's own sockets or an NCCL net
// plugin (transport/net_plugin/net_plugin_loader.h), chosen once per process from
// NCCL_NET_PLUGIN and NCCL_NET, so that a plugin that cannot be used costs one WARN line, not
// one per communicator. A communicator whose ncclConfig_t names a network (netName) chooses
// by that name instead of NCCL_NET, as NCCL does.
#pragma once

#include <nccl.h>

#include <memory>
#include <string>

namespace tccl {

class NetPlugin;

// *out: the plugin to use, or null for TCCL's own sockets. An error when the name asked for
// (configNetName, else NCCL_NET) cannot be served.
ncclResult_t commNetwork(const std::string& configNetName, std::shared_ptr<NetPlugin>* out);

}  // namespace tccl
