// The table entry of the shm transport: hops between ranks of one machine, host memory.
#include "base/log.h"
#include "transport/shm/shm_connection.h"
#include "transport/transport.h"

namespace tccl {
namespace {

ShmConnectionSpec shmSpec(const HopContext& ctx, const HopSetup& hop) {
  return ShmConnectionSpec{
      .slotBytes = ctx.slotBytes, .nSlots = ctx.nSlots, .numaNode = hop.numaNode, .tag = hop.tag};
}

bool shmHopCanConnect(const HopContext&, const HopSetup& hop) {
  return !hop.net;
}

ncclResult_t shmHopConnectSend(const HopContext& ctx, const HopSetup& hop,
                               std::unique_ptr<Connection>* out) {
  return shmConnectSend(*ctx.bootstrap, hop.peer, shmSpec(ctx, hop), out);
}

ncclResult_t shmHopConnectRecv(const HopContext& ctx, const HopSetup& hop,
                               std::unique_ptr<Connection>* out) {
  return shmConnectRecv(*ctx.bootstrap, hop.peer, shmSpec(ctx, hop), out);
}

ncclResult_t shmHopAwaitReceiver(const HopContext& ctx, const HopSetup& hop, Connection&) {
  return shmAwaitReceiver(*ctx.bootstrap, hop.peer, shmSpec(ctx, hop));
}

}  // namespace

const Transport kShmTransport{.name = "SHM",
                              .logSubsystems = kLogInit | kLogShm,
                              .canConnect = shmHopCanConnect,
                              .connectSend = shmHopConnectSend,
                              .connectRecv = shmHopConnectRecv,
                              .awaitReceiver = shmHopAwaitReceiver,
                              .describe = nullptr,
                              .label = nullptr};

}  // namespace tccl
