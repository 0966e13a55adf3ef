#include "core/hop_setup.h"

#include "base/error.h"
#include "base/log.h"
#include "core/communicator.h"
#include "core/cuda_glue.h"
#include "core/transport_table.h"
#include "transport/caller_memory.h"

namespace tccl {

bool hopUsesNet(const ncclComm& comm, int peer) {
  const RankInfo& me = comm.ranks[comm.rank];
  const RankInfo& other = comm.ranks[peer];
  return me.hostHash != other.hostHash || me.physHostHash != other.physHostHash;
}

HopContext hopContext(ncclComm& comm) {
  HopContext ctx{
      .bootstrap = comm.bootstrap.get(),
      .rank = comm.rank,
      .slotBytes = static_cast<size_t>(comm.env.chunkBytes),
      .nSlots = static_cast<int>(comm.env.nSlots),
      .netThreads = static_cast<int>(comm.env.netThreads),
      .netSocksPerThread = static_cast<int>(comm.env.netSocksPerThread),
      .setupTimeoutSec = static_cast<double>(comm.env.bootstrapTimeoutSec),
      .closeTimeoutSec = static_cast<double>(comm.env.timeoutSec),
      .abortFlag = &comm.abortFlag,
      .cudaDevice = nullptr,  // addCudaHopContext
      .netStaging = {},
      .netPlugin = comm.netPlugin,
      .pluginNics = comm.pluginNics,
      .callerMemory = comm.env.localRegister ? &CallerMemory::process() : nullptr,
  };
  addCudaHopContext(comm, &ctx);
  return ctx;
}

ncclResult_t hopConnectSend(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out) {
  const HopContext ctx = hopContext(comm);
  const Transport* t = transportFor(ctx, hop);
  if (!t) return ncclInternalError;
  TCCL_CHECK(t->connectSend(ctx, hop, out));
  const std::string name = t->label ? t->label(ctx) : t->name;
  INFO(t->logSubsystems, "Connection %d -> %d tag %#x via %s%s%s", comm.rank, hop.peer, hop.tag,
       name.c_str(), t->describe ? " " : "", t->describe ? t->describe(ctx, hop).c_str() : "");
  return ncclSuccess;
}

ncclResult_t hopConnectRecv(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out) {
  const HopContext ctx = hopContext(comm);
  const Transport* t = transportFor(ctx, hop);
  return t ? t->connectRecv(ctx, hop, out) : ncclInternalError;
}

ncclResult_t hopAwaitReceiver(ncclComm& comm, const HopSetup& hop, Connection& sendConnection) {
  const HopContext ctx = hopContext(comm);
  const Transport* t = transportFor(ctx, hop);
  return t ? t->awaitReceiver(ctx, hop, sendConnection) : ncclInternalError;
}

}  // namespace tccl
