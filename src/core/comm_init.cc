#include "core/comm_init.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "core/communicator.h"
#include "core/error.h"
#include "core/group.h"
#include "core/log.h"
#include "core/node_identity.h"
#include "core/plan_setup.h"
#include "tccl/version.h"
#include "transport/shm/shm_connection.h"

namespace tccl {
namespace {

constexpr uint32_t kRingTagBase = 0x100;
constexpr unsigned kConfigMagic = 0xcafebeef;

void printVersionOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    TCCL_LOG(LogLevel::kVersion, kLogInit, "TCCL version %s (NCCL API %d.%d.%d)\n", TCCL_VERSION_STRING,
             NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH);
  });
}

ncclResult_t selectDevice(ncclComm* comm) {
  if (comm->env.device == "cuda")
    return setError(ncclInvalidUsage,
                    "TCCL_DEVICE=cuda: the CUDA backend is not available in this build; use "
                    "TCCL_DEVICE=host (see README, compatibility)");
  comm->device = makeHostBackend();
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

ncclResult_t connectRings(ncclComm* comm) {
  comm->channels.resize(comm->plan.rings.size());
  for (size_t c = 0; c < comm->plan.rings.size(); ++c) {
    const Ring& ring = comm->plan.rings[c];
    const int n = static_cast<int>(ring.order.size());
    if (n == 1) continue;
    const int pos = static_cast<int>(std::find(ring.order.begin(), ring.order.end(), comm->rank) - ring.order.begin());
    const int next = ring.order[(pos + 1) % n], prev = ring.order[(pos - 1 + n) % n];
    for (int peer : {next, prev}) {
      if (comm->ranks[peer].physHostHash != comm->ranks[comm->rank].physHostHash)
        return setError(ncclInvalidUsage,
                        "ranks %d and %d are on different machines: the network transport is not "
                        "available yet (see README, compatibility)",
                        comm->rank, peer);
    }
    ShmConnectionSpec spec;
    spec.slotBytes = static_cast<size_t>(comm->env.chunkBytes);
    spec.nSlots = static_cast<int>(comm->env.nSlots);
    spec.tag = kRingTagBase + static_cast<uint32_t>(c);
    const Hop& sendHop = ring.hops[pos];
    spec.numaNode = sendHop.kind == HopKind::kHostBounce ? sendHop.numa : -1;
    TCCL_CHECK(shmConnectSend(*comm->bootstrap, next, spec, &comm->channels[c].send));
    const Hop& recvHop = ring.hops[(pos - 1 + n) % n];
    spec.numaNode = recvHop.kind == HopKind::kHostBounce ? recvHop.numa : -1;
    TCCL_CHECK(shmConnectRecv(*comm->bootstrap, prev, spec, &comm->channels[c].recv));
  }
  for (size_t c = 0; c < comm->plan.rings.size(); ++c) {
    const Ring& ring = comm->plan.rings[c];
    const int n = static_cast<int>(ring.order.size());
    if (n == 1) continue;
    const int pos = static_cast<int>(std::find(ring.order.begin(), ring.order.end(), comm->rank) - ring.order.begin());
    ShmConnectionSpec spec;
    spec.tag = kRingTagBase + static_cast<uint32_t>(c);
    TCCL_CHECK(shmAwaitReceiver(*comm->bootstrap, ring.order[(pos + 1) % n], spec));
  }
  return ncclSuccess;
}

ncclResult_t initComm(ncclComm* comm, ncclUniqueId id) {
  printVersionOnce();
  TCCL_CHECK(readRuntimeEnv(&comm->env));
  TCCL_CHECK(selectDevice(comm));
  TCCL_CHECK(Bootstrap::create(id, comm->rank, comm->nranks,
                               static_cast<double>(comm->env.bootstrapTimeoutSec), &comm->bootstrap));
  TCCL_CHECK(gatherRankInfo(comm));
  if (comm->cudaDev < 0) comm->cudaDev = comm->shape.localRankOf[comm->rank];
  TCCL_CHECK(setupPlan(comm));
  TCCL_CHECK(connectRings(comm));
  logPlan(comm);
  INFO(kLogInit, "comm %p rank %d nRanks %d nNodes %zu localRank %d device %s - Init COMPLETE",
       static_cast<void*>(comm), comm->rank, comm->nranks, comm->shape.nodeRanks.size(),
       comm->shape.localRankOf[comm->rank], std::string(comm->device->name()).c_str());
  return ncclSuccess;
}

void runInit(ncclComm* comm, ncclUniqueId id) {
  ncclResult_t res = initComm(comm, id);
  if (res != ncclSuccess) comm->lastError = lastThreadError();
  comm->asyncError.store(res);
}

}  // namespace

ncclResult_t checkConfig(const ncclConfig_t* config) {
  if (!config) return ncclSuccess;
  if (config->magic != kConfigMagic)
    return setError(ncclInvalidArgument,
                    "ncclConfig_t has magic %#x, expected %#x: initialize it with NCCL_CONFIG_INITIALIZER",
                    config->magic, kConfigMagic);
  if (config->size != sizeof(ncclConfig_t))
    return setError(ncclInvalidArgument, "ncclConfig_t size %zu does not match this library's %zu",
                    config->size, sizeof(ncclConfig_t));
  if (config->blocking != NCCL_CONFIG_UNDEF_INT && config->blocking != 0 && config->blocking != 1)
    return setError(ncclInvalidArgument, "ncclConfig_t.blocking=%d must be 0 or 1", config->blocking);
  return ncclSuccess;
}

ncclResult_t commInitRank(ncclComm_t* out, int nranks, const ncclUniqueId& id, int rank,
                          const ncclConfig_t* config, int cudaDev) {
  if (!out) return setError(ncclInvalidArgument, "comm is NULL");
  *out = nullptr;
  if (nranks < 1 || nranks > kMaxRanks)
    return setError(ncclInvalidArgument, "nranks=%d is out of range [1, %d]", nranks, kMaxRanks);
  if (rank < 0 || rank >= nranks)
    return setError(ncclInvalidArgument, "rank=%d is out of range [0, %d)", rank, nranks);
  TCCL_CHECK(checkConfig(config));
  UniqueIdContent content;
  TCCL_CHECK(decodeUniqueId(id, &content));

  auto comm = std::make_unique<ncclComm>();
  comm->rank = rank;
  comm->nranks = nranks;
  comm->config = config ? *config : ncclConfig_t(NCCL_CONFIG_INITIALIZER);
  comm->blocking = !(config && config->blocking == 0);
  if (config && config->commName) comm->commName = config->commName;
  comm->cudaDev = cudaDev;
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
          INFO(kLogInit, "devlist names device %d twice: ranks %d and %d share it", devlist[i], j, i);
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
  // Host-backend operations complete before their call returns: nothing is in flight.
  return waitCommReady(comm) == ncclInProgress ? ncclInProgress : ncclSuccess;
}

ncclResult_t commDestroy(ncclComm_t comm) {
  {
    std::lock_guard<std::mutex> lock(comm->mutex);
    if (comm->initThread.joinable()) comm->initThread.join();
  }
  unregisterComm(comm);
  std::unique_ptr<ncclComm> owned(comm);
  return ncclSuccess;
}

ncclResult_t commAbort(ncclComm_t comm) {
  comm->abortFlag.store(true);
  return commDestroy(comm);
}

}  // namespace tccl
