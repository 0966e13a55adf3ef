#include "transport/net/hop_setup.h"

#include "base/error.h"
#include "base/log.h"
#include "core/communicator.h"
#include "core/cuda_glue.h"
#include "transport/net/net_connection.h"
#include "transport/net_plugin/plugin_net_connection.h"
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

// The plugin device of a hop: the NIC that the plan names, folded onto the plugin's devices.
int pluginDevice(const NetPlugin& net, const HopSetup& hop) {
  const Hop& d = hop.descriptor;
  const int nic = d.kind == HopKind::kNet && d.nic >= 0 ? d.nic : 0;
  return nic % net.deviceCount();
}

PluginNetConnectionSpec pluginSpec(ncclComm& comm, const HopSetup& hop) {
  return PluginNetConnectionSpec{
      .slotBytes = static_cast<size_t>(comm.env.chunkBytes),
      .nSlots = static_cast<int>(comm.env.nSlots),
      .numaNode = hop.numaNode,
      .tag = static_cast<int>(hop.tag),
      .self = comm.rank,
      .peer = hop.peer,
      .setupTimeoutSec = static_cast<double>(comm.env.bootstrapTimeoutSec),
      .closeTimeoutSec = static_cast<double>(comm.env.timeoutSec),
      .abortFlag = &comm.abortFlag,
      .asyncSteps = cudaNetStaging(comm),  // GPU data is staged by the stream's copies
      .deviceSlots = std::nullopt,         // GPU-direct plugin hops: not wired yet
  };
}

bool usesPlugin(const ncclComm& comm, const HopSetup& hop) {
  return hop.net && comm.netPlugin && comm.netPlugin->deviceCount() > 0;
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
  if (usesPlugin(comm, hop)) {
    const int dev = pluginDevice(*comm.netPlugin, hop);
    TCCL_CHECK(pluginNetPrepareSend(comm.netPlugin, dev, pluginSpec(comm, hop), out));
    // GPU-direct plugin hops are not built yet: a plan that asks for one gets host staging.
    const std::string numa = hop.numaNode >= 0 ? "@numa" + std::to_string(hop.numaNode) : "";
    INFO(kLogInit | kLogNet, "Connection %d -> %d tag %#x via NET/%s dev %d staged%s%s", comm.rank,
         hop.peer, hop.tag, comm.netPlugin->name().c_str(), dev, numa.c_str(),
         hop.descriptor.gpuDirect ? " (the plan asked for GPU-direct)" : "");
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
  if (usesPlugin(comm, hop)) {
    NetHandle handle;
    TCCL_CHECK(pluginNetListen(comm.netPlugin, pluginDevice(*comm.netPlugin, hop),
                               pluginSpec(comm, hop), &handle, out));
    return comm.bootstrap->send(hop.peer, hop.tag, &handle, sizeof(handle));
  }
  if (hop.net) return netConnectRecv(*comm.bootstrap, hop.peer, netSpec(comm, hop), out);
  return shmConnectRecv(*comm.bootstrap, hop.peer, shmSpec(comm, hop), out);
}

ncclResult_t hopAwaitReceiver(ncclComm& comm, const HopSetup& hop, Connection& sendConnection) {
  if (!hop.net && commUsesCuda(comm)) return cudaHopAwaitReceiver(comm, hop);
  if (usesPlugin(comm, hop)) {
    NetHandle handle;
    TCCL_CHECK(comm.bootstrap->recv(hop.peer, hop.tag, &handle, sizeof(handle)));
    return pluginNetConnect(sendConnection, handle);
  }
  if (hop.net) return netAwaitReceiver(sendConnection);
  return shmAwaitReceiver(*comm.bootstrap, hop.peer, shmSpec(comm, hop));
}

}  // namespace tccl
