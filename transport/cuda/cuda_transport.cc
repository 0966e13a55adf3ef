// The table entry of the CUDA transport: hops between GPUs of one machine, p2p (IPC) or
// through a host bounce buffer, as the plan's hop says.
#include "base/log.h"
#include "transport/cuda/cuda_connection.h"
#include "transport/transport.h"

namespace tccl {
namespace {

CudaConnectionSpec cudaSpec(const HopContext& ctx, const HopSetup& hop) {
  return CudaConnectionSpec{
      .slotBytes = ctx.slotBytes, .nSlots = ctx.nSlots, .tag = hop.tag, .hop = hop.descriptor};
}

bool cudaHopCanConnect(const HopContext& ctx, const HopSetup& hop) {
  return !hop.net && ctx.cudaDevice != nullptr;
}

ncclResult_t cudaHopConnectSend(const HopContext& ctx, const HopSetup& hop,
                                std::unique_ptr<Connection>* out) {
  return cudaConnectSend(*ctx.bootstrap, hop.peer, cudaSpec(ctx, hop), *ctx.cudaDevice, out);
}

ncclResult_t cudaHopConnectRecv(const HopContext& ctx, const HopSetup& hop,
                                std::unique_ptr<Connection>* out) {
  return cudaConnectRecv(*ctx.bootstrap, hop.peer, cudaSpec(ctx, hop), *ctx.cudaDevice, out);
}

ncclResult_t cudaHopAwaitReceiver(const HopContext& ctx, const HopSetup& hop, Connection&) {
  return cudaAwaitReceiver(*ctx.bootstrap, hop.peer, cudaSpec(ctx, hop));
}

std::string cudaHopDescribe(const HopContext&, const HopSetup& hop) {
  return describeHop(hop.descriptor);
}

}  // namespace

const Transport kCudaTransport{.name = "CUDA",
                               .logSubsystems = kLogInit,
                               .canConnect = cudaHopCanConnect,
                               .connectSend = cudaHopConnectSend,
                               .connectRecv = cudaHopConnectRecv,
                               .awaitReceiver = cudaHopAwaitReceiver,
                               .describe = cudaHopDescribe,
                               .label = nullptr};

}  // namespace tccl
