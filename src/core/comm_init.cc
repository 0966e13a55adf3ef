#include "core/comm_init.h"

#include <unistd.h>

#include <cstring>
#include <mutex>

#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "base/log.h"
#include "base/node_identity.h"
#include "base/socket.h"
#include "core/comm_config.h"
#include "core/communicator.h"
#include "core/cuda_glue.h"
#include "core/group.h"
#include "core/hop_setup.h"
#include "core/network_choice.h"
#include "core/plan_setup.h"
#include "exec/tree_schedule.h"
#include "tccl/version.h"
#include "transport/shm/shm_buffer_exchange.h"

namespace tccl {
namespace {

void printVersionOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    TCCL_LOG(LogLevel::kVersion, kLogInit, "TCCL version %s (NCCL API %d.%d.%d)\n",
             TCCL_VERSION_STRING, NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH);
  });
}

ncclResult_t selectDevice(ncclComm* comm) {
  bool cuda = false;
  TCCL_CHECK(selectCudaBackend(comm, &cuda));
  if (!cuda) comm->device = makeHostBackend();
  return ncclSuccess;
}

ncclResult_t gatherRankInfo(ncclComm* comm) {
  RankInfo me;
  me.rank = comm->rank;
  me.hostHash = hostHash();
  me.physHostHash = physicalHostHash();
  me.pid = getpid();
  me.cudaDev = comm->cudaDev;  // -1 until known
  comm->ranks.assign(comm->nranks, RankInfo{});
  comm->ranks[comm->rank] = me;
  TCCL_CHECK(comm->bootstrap->allGather(comm->ranks.data(), sizeof(RankInfo)));
  for (int r = 0; r < comm->nranks; ++r)
    if (comm->ranks[r].rank != r)
      return setError(ncclInternalError, "rank info of rank %d is corrupt", r);
  comm->shape = deriveJobShape(comm->ranks);
  return ncclSuccess;
}

enum class HopEnd { kSend, kRecv };

struct PlannedHop {
  HopSetup setup;
  HopEnd end;
  std::unique_ptr<Connection>* conn;
};

// Only a job that spans nodes needs a network (a plugin's, or TCCL's sockets).
ncclResult_t chooseNetwork(ncclComm* comm) {
  for (int r = 0; r < comm->nranks; ++r)
    if (hopUsesNet(*comm, r)) return commNetwork(comm->netName, &comm->netPlugin);
  return ncclSuccess;
}

// Every ring channel, then (when the Tree algorithm may run) every tree link, each way. Shared
// memory inside a node, sockets between nodes.
ncclResult_t connectRings(ncclComm* comm) {
  const Plan& plan = comm->plan;
  comm->channels = layOutChannels(plan, comm->rank, treesWanted(plan, comm->shape, comm->env.algo));
  std::vector<PlannedHop> hops;
  auto plan1 = [&](int peer, uint32_t tag, const Hop* hop, HopEnd end,
                   std::unique_ptr<Connection>* conn) {
    HopSetup h;
    h.peer = peer;
    h.tag = tag;
    h.net = hopUsesNet(*comm, peer);
    if (hop) h.descriptor = *hop;
    if (hop && hop->kind == (h.net ? HopKind::kNet : HopKind::kHostBounce))
      h.numaNode = hop->numa;
    else if (!hop && h.net)
      h.numaNode = comm->ranks[comm->rank].numaNode;
    hops.push_back({h, end, conn});
  };
  for (size_t c = 0; c < plan.rings.size(); ++c) {
    const Ring& ring = plan.rings[c];
    RingChannel& ch = comm->channels.rings[c];
    const int n = static_cast<int>(ring.order.size());
    if (n == 1) continue;
    const int pos = ch.position;
    const uint32_t tag = bootstrap_tags::kRing.first + static_cast<uint32_t>(c);
    plan1(ring.order[(pos + 1) % n], tag, &ring.hops[pos], HopEnd::kSend, &ch.send);
    plan1(ring.order[(pos - 1 + n) % n], tag, &ring.hops[(pos - 1 + n) % n], HopEnd::kRecv,
          &ch.recv);
  }
  for (size_t t = 0; t < comm->channels.trees.size(); ++t)
    for (TreeLink& link : comm->channels.trees[t].links) {
      const uint32_t tag = bootstrap_tags::kTree.first + static_cast<uint32_t>(t);
      plan1(link.peer, tag, nullptr, HopEnd::kSend, &link.send);
      plan1(link.peer, tag, nullptr, HopEnd::kRecv, &link.recv);
    }
  for (PlannedHop& h : hops)
    if (h.end == HopEnd::kSend) TCCL_CHECK(hopConnectSend(*comm, h.setup, h.conn));
  for (PlannedHop& h : hops)
    if (h.end == HopEnd::kRecv) TCCL_CHECK(hopConnectRecv(*comm, h.setup, h.conn));
  for (PlannedHop& h : hops)
    if (h.end == HopEnd::kSend) TCCL_CHECK(hopAwaitReceiver(*comm, h.setup, **h.conn));
  return ncclSuccess;
}

// Ranks that share one machine address each other's ncclMemAlloc buffers directly.
ncclResult_t setupBufferExchange(ncclComm* comm) {
  if (!comm->env.directAllReduce || comm->nranks < 2 || comm->device->name() != "host")
    return ncclSuccess;
  // One node, really and as configured: NCCL_HOSTID nodes must talk through the network.
  for (const RankInfo& r : comm->ranks)
    if (r.physHostHash != comm->ranks[0].physHostHash || r.hostHash != comm->ranks[0].hostHash)
      return ncclSuccess;
  return createShmBufferExchange(*comm->bootstrap, &comm->exchange);
}

ncclResult_t initComm(ncclComm* comm, ncclUniqueId id) {
  SocketCancelScope cancelOnAbort(&comm->abortFlag);
  printVersionOnce();
  TCCL_CHECK(readRuntimeEnv(&comm->env));
  TCCL_CHECK(selectDevice(comm));
  TCCL_CHECK(Bootstrap::create(id, comm->rank, comm->nranks,
                               static_cast<double>(comm->env.bootstrapTimeoutSec),
                               &comm->bootstrap));
  TCCL_CHECK(gatherRankInfo(comm));
  if (comm->cudaDev < 0) comm->cudaDev = comm->shape.localRankOf[comm->rank];
  setLogDevice(comm->cudaDev);
  noteSharedDevices(*comm);
  TCCL_CHECK(chooseNetwork(comm));  // before the plan: a plugin's NICs are part of the node
  TCCL_CHECK(setupPlan(comm));
  TCCL_CHECK(connectRings(comm));
  TCCL_CHECK(setupBufferExchange(comm));
  logPlan(comm);
  INFO(kLogInit, "comm %p rank %d nRanks %d nNodes %zu localRank %d device %s - Init COMPLETE",
       static_cast<void*>(comm), comm->rank, comm->nranks, comm->shape.nodeRanks.size(),
       comm->shape.localRankOf[comm->rank], std::string(comm->device->name()).c_str());
  return ncclSuccess;
}

void runInit(ncclComm* comm, ncclUniqueId id) {
  ncclResult_t res;
  try {  // this may run on a thread of its own, where an exception would end the program
    res = initComm(comm, id);
  } catch (...) {
    res = errorFromException("ncclCommInitRank");
  }
  if (res != ncclSuccess) comm->lastError = lastThreadError();
  comm->asyncError.store(res);
}

}  // namespace

ncclResult_t commInitRank(ncclComm_t* out, int nranks, const ncclUniqueId& id, int rank,
                          const ncclConfig_t* config, int cudaDev) {
  if (!out) return setError(ncclInvalidArgument, "comm is NULL");
  *out = nullptr;
  if (nranks < 1 || nranks > kMaxRanks)
    return setError(ncclInvalidArgument, "nranks=%d is out of range [1, %d]", nranks, kMaxRanks);
  if (rank < 0 || rank >= nranks)
    return setError(ncclInvalidArgument, "rank=%d is out of range [0, %d)", rank, nranks);
  ncclConfig_t parsed;
  TCCL_CHECK(parseCommConfig(config, &parsed));
  UniqueIdContent content;
  TCCL_CHECK(decodeUniqueId(id, &content));

  auto comm = std::make_unique<ncclComm>();
  comm->rank = rank;
  comm->nranks = nranks;
  // The strings are copied: the caller's config may be gone before a non-blocking init ends.
  if (parsed.commName) comm->commName = parsed.commName;
  if (parsed.netName) comm->netName = parsed.netName;
  comm->config = parsed;
  comm->config.commName = parsed.commName ? comm->commName.c_str() : nullptr;
  comm->config.netName = parsed.netName ? comm->netName.c_str() : nullptr;
  comm->blocking = parsed.blocking != 0;
  // Like NCCL: the device current on the calling thread, unless InitAll names one.
  comm->cudaDev = cudaDev >= 0 ? cudaDev : currentCudaDevice();
  ncclComm* raw = comm.release();  // owned by the registry until ncclCommDestroy
  registerComm(raw);
  *out = raw;

  if (!raw->blocking || inGroup()) {
    raw->asyncError.store(ncclInProgress);
    raw->initThread = std::thread(runInit, raw, id);
    if (inGroup()) groupAddPendingInit(raw);
    return raw->blocking ? ncclSuccess : ncclInProgress;
  }
  runInit(raw, id);
  ncclResult_t res = raw->asyncError.load();
  if (res != ncclSuccess) {
    std::string msg = raw->lastError;
    commDestroy(raw);
    *out = nullptr;
    return setError(res, "%s", msg.c_str());
  }
  return ncclSuccess;
}

ncclResult_t commInitAll(ncclComm_t* comms, int ndev, const int* devlist) {
  if (!comms) return setError(ncclInvalidArgument, "comms is NULL");
  if (ndev < 1) return setError(ncclInvalidArgument, "ndev=%d must be >= 1", ndev);
  if (devlist) {
    for (int i = 0; i < ndev; ++i)
      for (int j = 0; j < i; ++j)
        if (devlist[i] == devlist[j])
          INFO(kLogInit, "devlist names device %d twice: ranks %d and %d share it", devlist[i], j,
               i);
  }
  ncclUniqueId id;
  TCCL_CHECK(createUniqueId(&id, 120, /*honourCommIdEnv=*/false));
  TCCL_CHECK(groupStart());
  ncclResult_t res = ncclSuccess;
  for (int i = 0; i < ndev && res == ncclSuccess; ++i) {
    res = commInitRank(&comms[i], ndev, id, i, nullptr, devlist ? devlist[i] : i);
  }
  ncclResult_t endRes = groupEnd();
  return res != ncclSuccess ? res : endRes;
}

ncclResult_t commFinalize(ncclComm_t comm) {
  if (waitCommReady(comm) == ncclInProgress) return ncclInProgress;
  // Host-backend operations complete before their call returns; CUDA ones may still run.
  return finalizeCuda(comm, comm->blocking);
}

ncclResult_t commDestroy(ncclComm_t comm) {
  {
    std::lock_guard<std::mutex> lock(comm->mutex);
    if (comm->initThread.joinable()) comm->initThread.join();
  }
  unregisterComm(comm);
  std::unique_ptr<ncclComm> owned(comm);
  releaseCudaResources(comm);
  return ncclSuccess;
}

ncclResult_t commAbort(ncclComm_t comm) {
  comm->abortFlag.store(true);
  return commDestroy(comm);
}

}  // namespace tccl
