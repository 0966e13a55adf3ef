// The table entry of TCCL's own network transport, NET/Socket: hops between nodes over TCP.
#include "base/log.h"
#include "transport/net/net_connection.h"
#include "transport/transport.h"

namespace tccl {
namespace {

NetConnectionSpec netSpec(const HopContext& ctx, const HopSetup& hop) {
  return NetConnectionSpec{
      .slotBytes = ctx.slotBytes,
      .nSlots = ctx.nSlots,
      .numaNode = hop.numaNode,
      .tag = hop.tag,
      .nThreads = ctx.netThreads,
      .nSocksPerThread = ctx.netSocksPerThread,
      .setupTimeoutSec = ctx.setupTimeoutSec,
      .closeTimeoutSec = ctx.closeTimeoutSec,
      .abortFlag = ctx.abortFlag,
      .asyncSteps = ctx.netStaging ? ctx.netStaging() : nullptr,  // GPU data: the stream stages
  };
}

bool netSocketHopCanConnect(const HopContext&, const HopSetup& hop) {
  return hop.net;
}

ncclResult_t netSocketHopConnectSend(const HopContext& ctx, const HopSetup& hop,
                                     std::unique_ptr<Connection>* out) {
  return netConnectSend(*ctx.bootstrap, hop.peer, netSpec(ctx, hop), out);
}

ncclResult_t netSocketHopConnectRecv(const HopContext& ctx, const HopSetup& hop,
                                     std::unique_ptr<Connection>* out) {
  return netConnectRecv(*ctx.bootstrap, hop.peer, netSpec(ctx, hop), out);
}

ncclResult_t netSocketHopAwaitReceiver(const HopContext&, const HopSetup&,
                                       Connection& sendConnection) {
  return netAwaitReceiver(sendConnection);
}

}  // namespace

const Transport kNetSocketTransport{.name = "NET/Socket",
                                    .logSubsystems = kLogInit | kLogNet,
                                    .canConnect = netSocketHopCanConnect,
                                    .connectSend = netSocketHopConnectSend,
                                    .connectRecv = netSocketHopConnectRecv,
                                    .awaitReceiver = netSocketHopAwaitReceiver,
                                    .describe = nullptr,
                                    .label = nullptr};

}  // namespace tccl
