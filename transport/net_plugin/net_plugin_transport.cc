// The table entry of the network through an NCCL net plugin (NET/<the plugin's name>): hops
// between nodes when a plugin network was chosen at init (core/network_choice.h). The
// receiver listens and sends the plugin's connect handle to the sender over the bootstrap,
// under the hop's tag; the sender connects with it in its last phase.
#include <optional>
#include <string>

#include "base/error.h"
#include "base/log.h"
#include "transport/net_plugin/plugin_net_connection.h"
#include "transport/transport.h"

namespace tccl {
namespace {

// The plugin device of a hop: the NIC that the plan names, folded onto the plugin's devices.
int pluginDevice(const NetPlugin& net, const HopSetup& hop) {
  const Hop& d = hop.descriptor;
  const int nic = d.kind == HopKind::kNet && d.nic >= 0 ? d.nic : 0;
  return nic % net.deviceCount();
}

PluginNetConnectionSpec pluginSpec(const HopContext& ctx, const HopSetup& hop) {
  return PluginNetConnectionSpec{
      .slotBytes = ctx.slotBytes,
      .nSlots = ctx.nSlots,
      .numaNode = hop.numaNode,
      .tag = static_cast<int>(hop.tag),
      .self = ctx.rank,
      .peer = hop.peer,
      .setupTimeoutSec = ctx.setupTimeoutSec,
      .closeTimeoutSec = ctx.closeTimeoutSec,
      .abortFlag = ctx.abortFlag,
      .asyncSteps = ctx.netStaging ? ctx.netStaging() : nullptr,  // GPU data: the stream stages
      .deviceSlots = std::nullopt,  // GPU-direct plugin hops: not wired yet (host staging)
      .callerMemory = ctx.callerMemory,
  };
}

bool canConnect(const HopContext& ctx, const HopSetup& hop) {
  return hop.net && ctx.netPlugin && ctx.netPlugin->deviceCount() > 0;
}

ncclResult_t connectSend(const HopContext& ctx, const HopSetup& hop,
                         std::unique_ptr<Connection>* out) {
  return pluginNetPrepareSend(ctx.netPlugin, pluginDevice(*ctx.netPlugin, hop),
                              pluginSpec(ctx, hop), out);
}

ncclResult_t connectRecv(const HopContext& ctx, const HopSetup& hop,
                         std::unique_ptr<Connection>* out) {
  NetHandle handle;
  TCCL_CHECK(pluginNetListen(ctx.netPlugin, pluginDevice(*ctx.netPlugin, hop), pluginSpec(ctx, hop),
                             &handle, out));
  return ctx.bootstrap->send(hop.peer, hop.tag, &handle, sizeof(handle));
}

ncclResult_t awaitReceiver(const HopContext& ctx, const HopSetup& hop, Connection& sendConnection) {
  NetHandle handle;
  TCCL_CHECK(ctx.bootstrap->recv(hop.peer, hop.tag, &handle, sizeof(handle)));
  return pluginNetConnect(sendConnection, handle);
}

std::string label(const HopContext& ctx) {
  return "NET/" + ctx.netPlugin->name();
}

std::string describe(const HopContext& ctx, const HopSetup& hop) {
  const std::string numa = hop.numaNode >= 0 ? "@numa" + std::to_string(hop.numaNode) : "";
  return "dev " + std::to_string(pluginDevice(*ctx.netPlugin, hop)) + " staged" + numa +
         (hop.descriptor.gpuDirect ? " (the plan asked for GPU-direct)" : "");
}

}  // namespace

const Transport kNetPluginTransport{.name = "NET/Plugin",
                                    .logSubsystems = kLogInit | kLogNet,
                                    .canConnect = canConnect,
                                    .connectSend = connectSend,
                                    .connectRecv = connectRecv,
                                    .awaitReceiver = awaitReceiver,
                                    .describe = describe,
                                    .label = label};

}  // namespace tccl
