#include "transport/net/hop_setup.h"

#include "base/error.h"
#include "base/log.h"
#include "core/communicator.h"
#include "core/cuda_glue.h"
#include "transport/net/net_connection.h"
#include "transport/shm/shm_connection.h"

namespace tccl {
namespace {

ShmConnectionSpec shmSpec(const ncclComm& comm, const HopSetup& hop) {
  ShmConnectionSpec spec;
  spec.slotBytes = static_cast<size_t>(comm.env.chunkBytes);
  spec.nSlots = static_cast<int>(comm.env.nSlots);
  spec.numaNode = hop.numaNode;
  spec.tag = hop.tag;
  return spec;
}

NetConnectionSpec netSpec(ncclComm& comm, const HopSetup& hop) {
  NetConnectionSpec spec;
  spec.slotBytes = static_cast<size_t>(comm.env.chunkBytes);
  spec.nSlots = static_cast<int>(comm.env.nSlots);
  spec.numaNode = hop.numaNode;
  spec.tag = hop.tag;
  spec.nThreads = static_cast<int>(comm.env.netThreads);
  spec.nSocksPerThread = static_cast<int>(comm.env.netSocksPerThread);
  spec.setupTimeoutSec = static_cast<double>(comm.env.bootstrapTimeoutSec);
  spec.closeTimeoutSec = static_cast<double>(comm.env.timeoutSec);
  spec.abortFlag = &comm.abortFlag;
  spec.asyncSteps = cudaNetStaging(comm);  // GPU data is staged by the stream's copies
  return spec;
}

}  // namespace

bool hopUsesNet(const ncclComm& comm, int peer) {
  const RankInfo& me = comm.ranks[comm.rank];
  const RankInfo& other = comm.ranks[peer];
  return me.hostHash != other.hostHash || me.physHostHash != other.physHostHash;
}

ncclResult_t hopConnectSend(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out) {
  if (!hop.net && commUsesCuda(comm)) {
    TCCL_CHECK(cudaHopConnectSend(comm, hop, out));
    INFO(kLogInit, "Connection %d -> %d tag %#x via CUDA %s", comm.rank, hop.peer, hop.tag,
         describeHop(hop.descriptor).c_str());
    return ncclSuccess;
  }
  if (hop.net) {
    TCCL_CHECK(netConnectSend(*comm.bootstrap, hop.peer, netSpec(comm, hop), out));
  } else {
    TCCL_CHECK(shmConnectSend(*comm.bootstrap, hop.peer, shmSpec(comm, hop), out));
  }
  INFO(kLogInit | kLogNet | kLogShm, "Connection %d -> %d tag %#x via %s", comm.rank, hop.peer,
       hop.tag, hop.net ? "NET/Socket" : "SHM");
  return ncclSuccess;
}

ncclResult_t hopConnectRecv(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out) {
  if (!hop.net && commUsesCuda(comm)) return cudaHopConnectRecv(comm, hop, out);
  if (hop.net) return netConnectRecv(*comm.bootstrap, hop.peer, netSpec(comm, hop), out);
  return shmConnectRecv(*comm.bootstrap, hop.peer, shmSpec(comm, hop), out);
}

ncclResult_t hopAwaitReceiver(ncclComm& comm, const HopSetup& hop, Connection& sendConnection) {
  if (!hop.net && commUsesCuda(comm)) return cudaHopAwaitReceiver(comm, hop);
  if (hop.net) return netAwaitReceiver(sendConnection);
  return shmAwaitReceiver(*comm.bootstrap, hop.peer, shmSpec(comm, hop));
}

}  // namespace tccl
