#include "core/group.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "base/error.h"
#include "core/communicator.h"
#include "core/cuda_glue.h"
#include "core/p2p_connect.h"
#include "core/stall_diagnosis.h"
#include "exec/executor.h"

namespace tccl {
namespace {

struct GroupState {
  int depth = 0;
  std::vector<CommWork> work;
  std::vector<ncclComm*> pendingInits;
};
thread_local GroupState tGroup;

CommWork& workFor(std::vector<CommWork>& all, ncclComm* comm) {
  for (CommWork& w : all)
    if (w.comm == comm) return w;
  all.push_back(CommWork{comm, {}, {}});
  return all.back();
}

ncclResult_t execute(std::vector<CommWork>& all) {
  TCCL_CHECK(connectP2p(all));
  std::vector<WorkQueue> queues(all.size());
  WaitPolicy policy;
  for (size_t i = 0; i < all.size(); ++i) {
    ncclComm* comm = all[i].comm;
    WorkQueue& q = queues[i];
    q.device = comm->device.get();
    q.abortFlag = &comm->abortFlag;
    q.rank = comm->rank;
    policy.timeoutSec = static_cast<double>(comm->env.timeoutSec);
    // Across nodes the helper threads and the kernel's TCP stack need the cores: nap sooner.
    if (comm->shape.nodeRanks.size() > 1) policy.yieldSec = 50e-6;
    const size_t chunkBytes = static_cast<size_t>(comm->env.chunkBytes);
    const CollTarget target{.channels = comm->channels,
                            .shape = comm->shape,
                            .device = *comm->device,
                            .chunkBytes = chunkBytes,
                            .treeMaxBytes = static_cast<size_t>(comm->env.treeMaxBytes),
                            .algo = comm->env.algo,
                            .exchange = comm->exchange.get(),
                            .directSeq = &comm->directSeq};
    for (const CollTask& t : all[i].colls) {
      Program prog;
      TCCL_CHECK(compileCollective(t, target, &prog));
      q.sequential.push_back(std::move(prog));
    }
    compileP2p(all[i].p2p, comm->p2pSend, comm->p2pRecv, chunkBytes, &q.concurrent);
  }
  // Host communicators run here and now; CUDA ones on their proxies, ordered on user streams.
  std::vector<WorkQueue*> ptrs;
  std::vector<CudaWork> cudaWork;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!commUsesCuda(*all[i].comm)) {
      ptrs.push_back(&queues[i]);
      continue;
    }
    CudaWork w{all[i].comm, std::make_shared<WorkQueue>(std::move(queues[i])), {}};
    auto addStream = [&w](cudaStream_t s) {
      if (std::find(w.streams.begin(), w.streams.end(), s) == w.streams.end())
        w.streams.push_back(s);
    };
    for (const CollTask& t : all[i].colls) addStream(t.stream);
    for (const P2pTask& t : all[i].p2p) addStream(t.stream);
    cudaWork.push_back(std::move(w));
  }
  if (!cudaWork.empty()) TCCL_CHECK(launchCudaWork(std::move(cudaWork), policy));
  // Only for the host queues, which run here: CUDA work outlives `all` on its proxy.
  WaitPolicy hostPolicy = policy;
  hostPolicy.diagnoseStall = [&all] { return stoppedLocalRanks(all); };
  ncclResult_t res = ptrs.empty() ? ncclSuccess : runWorkQueues(ptrs, hostPolicy);
  if (res != ncclSuccess) {
    for (CommWork& w : all) {
      if (commUsesCuda(*w.comm)) continue;
      w.comm->asyncError.store(res);
      w.comm->lastError = lastThreadError();
    }
  }
  return res;
}

}  // namespace

bool inGroup() {
  return tGroup.depth > 0;
}

ncclResult_t groupStart() {
  ++tGroup.depth;
  return ncclSuccess;
}

void groupAddPendingInit(ncclComm_t comm) {
  tGroup.pendingInits.push_back(comm);
}

ncclResult_t groupEnd() {
  if (tGroup.depth == 0)
    return setError(ncclInvalidUsage, "ncclGroupEnd without a matching ncclGroupStart");
  if (--tGroup.depth > 0) return ncclSuccess;
  ncclResult_t res = ncclSuccess;
  std::vector<ncclComm*> inits = std::move(tGroup.pendingInits);
  tGroup.pendingInits.clear();
  for (ncclComm* comm : inits) {
    ncclResult_t r = waitCommReady(comm);
    if (r != ncclSuccess && res == ncclSuccess) res = setError(r, "%s", comm->lastError.c_str());
  }
  std::vector<CommWork> work = std::move(tGroup.work);
  tGroup.work.clear();
  if (res != ncclSuccess || work.empty()) return res;
  return execute(work);
}

ncclResult_t enqueueColl(ncclComm_t comm, const CollTask& task) {
  if (inGroup()) {
    workFor(tGroup.work, comm).colls.push_back(task);
    return ncclSuccess;
  }
  std::vector<CommWork> work{CommWork{comm, {task}, {}}};
  return execute(work);
}

ncclResult_t enqueueP2p(ncclComm_t comm, const P2pTask& task) {
  if (inGroup()) {
    workFor(tGroup.work, comm).p2p.push_back(task);
    return ncclSuccess;
  }
  std::vector<CommWork> work{CommWork{comm, {}, {task}}};
  return execute(work);
}

}  // namespace tccl
