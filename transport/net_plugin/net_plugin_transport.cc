// The table entry of the network through an NCCL net plugin (NET/<the plugin's name>): hops
// between nodes when a plugin network was chosen at init (core/network_choice.h). The
// receiver listens and sends the plugin's connect handle to the sender over the bootstrap,
// under the hop's tag; the sender connects with it in its last phase.
#include <optional>
#include <string>

#include "base/error.h"
#include "base/log.h"
#include "topo/plugin_nics.h"
#include "transport/net_plugin/plugin_net_connection.h"
#include "transport/transport.h"

namespace tccl {
namespace {

// The plugin device on the NIC that the plan names (none named: NIC 0); why: set when no
// device is mapped to it and the NIC index is folded onto the plugin's devices instead.
int pluginDevice(const HopContext& ctx, const HopSetup& hop, std::string* why = nullptr) {
  const Hop& d = hop.descriptor;
  const int nic = d.kind == HopKind::kNet ? d.nic : -1;
  std::string ignored;
  return topo::pluginDeviceForNic(ctx.pluginNics.get(), nic, ctx.netPlugin->deviceCount(),
                                  why ? why : &ignored);
}

// The plugin device of a hop, with an INFO line when the NIC mapping could not decide it.
int hopDevice(const HopContext& ctx, const HopSetup& hop) {
  std::string why;
  const int dev = pluginDevice(ctx, hop, &why);
  if (!why.empty())
    INFO(kLogNet,
         "NET/%s: rank %d's hop with rank %d tag %#x uses dev %d, its NIC index modulo "
         "the %d device(s): %s",
         ctx.netPlugin->name().c_str(), ctx.rank, hop.peer, hop.tag, dev,
         ctx.netPlugin->deviceCount(), why.c_str());
  return dev;
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
  return pluginNetPrepareSend(ctx.netPlugin, hopDevice(ctx, hop), pluginSpec(ctx, hop), out);
}

ncclResult_t connectRecv(const HopContext& ctx, const HopSetup& hop,
                         std::unique_ptr<Connection>* out) {
  NetHandle handle;
  TCCL_CHECK(
      pluginNetListen(ctx.netPlugin, hopDevice(ctx, hop), pluginSpec(ctx, hop), &handle, out));
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
  return "dev " + std::to_string(pluginDevice(ctx, hop)) + " staged" + numa +
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
