#include "core/group.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "base/bootstrap_tags.h"
#include "base/datatype.h"
#include "base/error.h"
#include "base/log.h"
#include "core/communicator.h"
#include "core/cuda_glue.h"
#include "core/hop_setup.h"
#include "exec/direct_allreduce.h"
#include "exec/executor.h"
#include "exec/tree_schedule.h"

namespace tccl {
namespace {

struct CommWork {
  ncclComm* comm = nullptr;
  std::vector<CollTask> colls;
  std::vector<P2pTask> p2p;
};

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

HopSetup p2pHop(const ncclComm* comm, int peer) {
  HopSetup hop;
  hop.peer = peer;
  hop.tag = bootstrap_tags::kP2p;
  hop.net = hopUsesNet(*comm, peer);
  return hop;
}

// Every send side first, for all communicators, then every receive side: a receive waits for
// its peer's send side, which may be this very thread (several ranks in one group).
ncclResult_t connectP2p(std::vector<CommWork>& all) {
  std::vector<std::pair<ncclComm*, int>> newSends;
  for (CommWork& w : all)
    for (const P2pTask& t : w.p2p)
      if (t.isSend && !w.comm->p2pSend.count(t.peer)) {
        TCCL_CHECK(hopConnectSend(*w.comm, p2pHop(w.comm, t.peer), &w.comm->p2pSend[t.peer]));
        newSends.emplace_back(w.comm, t.peer);
      }
  for (CommWork& w : all)
    for (const P2pTask& t : w.p2p)
      if (!t.isSend && !w.comm->p2pRecv.count(t.peer))
        TCCL_CHECK(hopConnectRecv(*w.comm, p2pHop(w.comm, t.peer), &w.comm->p2pRecv[t.peer]));
  for (auto [comm, peer] : newSends)
    TCCL_CHECK(hopAwaitReceiver(*comm, p2pHop(comm, peer), *comm->p2pSend[peer]));
  return ncclSuccess;
}

std::vector<RingView> ringViews(ncclComm* comm) {
  std::vector<RingView> views;
  for (size_t c = 0; c < comm->plan.rings.size(); ++c) {
    const Ring& ring = comm->plan.rings[c];
    RingView v;
    v.order = ring.order;
    v.position = static_cast<int>(std::find(ring.order.begin(), ring.order.end(), comm->rank) -
                                  ring.order.begin());
    v.send = comm->channels[c].send.get();
    v.recv = comm->channels[c].recv.get();
    views.push_back(std::move(v));
  }
  return views;
}

// Tree connections follow the ring channels in comm->channels (see connectRings).
std::vector<TreeView> treeViews(ncclComm* comm) {
  std::vector<TreeView> views;
  if (!treesWanted(comm->plan, comm->shape, comm->env.algo)) return views;
  size_t link = comm->plan.rings.size();
  for (const Tree& tree : comm->plan.trees) {
    TreeView v;
    v.tree = &tree;
    v.rank = comm->rank;
    v.neighbors = treeNeighbors(tree, comm->rank);
    for (size_t i = 0; i < v.neighbors.size(); ++i, ++link) {
      v.send.push_back(comm->channels[link].send.get());
      v.recv.push_back(comm->channels[link].recv.get());
    }
    views.push_back(std::move(v));
  }
  return views;
}

// One lane per (peer, direction); several operations with one peer run in issue order.
void buildP2pProgram(ncclComm* comm, const std::vector<P2pTask>& tasks, Program* prog) {
  std::map<std::pair<int, bool>, size_t> laneOf;
  const size_t slot = static_cast<size_t>(comm->env.chunkBytes);
  for (const P2pTask& t : tasks) {
    const size_t elemSize = dataTypeSize(t.type);
    auto key = std::make_pair(t.peer, t.isSend);
    auto [it, inserted] = laneOf.try_emplace(key, prog->lanes.size());
    if (inserted) {
      Lane lane;
      if (t.isSend)
        lane.sendConn = comm->p2pSend[t.peer].get();
      else
        lane.recvConn = comm->p2pRecv[t.peer].get();
      prog->lanes.push_back(std::move(lane));
    }
    if (t.keepAlive) prog->keepAlive.push_back(t.keepAlive);
    Lane& lane = prog->lanes[it->second];
    // Steps count bytes here: one program carries several datatypes.
    const size_t bytes = t.count * elemSize;
    char* base = static_cast<char*>(t.buff);
    for (size_t off = 0; off < bytes; off += slot) {
      Step s;
      s.count = std::min(slot, bytes - off);
      if (t.isSend) {
        s.local = base + off;
        s.send = true;
      } else {
        s.out = base + off;
        s.recv = true;
      }
      lane.steps.push_back(s);
    }
  }
  prog->elemSize = 1;
  prog->spec.type = ncclUint8;
}

// Ranks of these communicators that run on this machine but are stopped (SIGSTOP, a debugger)
// or gone: the likely reason why nothing moves.
std::string stoppedLocalRanks(const std::vector<CommWork>& all) {
  std::string found;
  for (const CommWork& w : all) {
    const RankInfo& me = w.comm->ranks[w.comm->rank];
    for (const RankInfo& r : w.comm->ranks) {
      if (r.rank == me.rank || r.physHostHash != me.physHostHash || r.pid <= 0) continue;
      char path[64], stat[512] = {};
      snprintf(path, sizeof(path), "/proc/%d/stat", r.pid);
      FILE* f = fopen(path, "r");
      const size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
      if (f) fclose(f);
      const char* paren = n ? strrchr(stat, ')') : nullptr;  // "pid (name) S ..."
      const char state = paren && paren[1] == ' ' ? paren[2] : '?';
      std::string what = !f                             ? "has exited"
                         : state == 'T' || state == 't' ? "is stopped"
                         : state == 'Z'                 ? "has exited"
                                                        : "";
      if (!what.empty())
        found += (found.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r.rank) +
                 " (pid " + std::to_string(r.pid) + ") " + what;
    }
  }
  return found;
}

const char* collName(CollKind kind) {
  switch (kind) {
    case CollKind::kAllReduce:
      return "AllReduce";
    case CollKind::kAllGather:
      return "AllGather";
    case CollKind::kReduceScatter:
      return "ReduceScatter";
    case CollKind::kBroadcast:
      return "Broadcast";
    case CollKind::kReduce:
      return "Reduce";
  }
  return "collective";
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
    const auto views = ringViews(comm);
    const auto trees = treeViews(comm);
    for (const CollTask& t : all[i].colls) {
      Program prog;
      prog.spec = t.spec;
      prog.elemSize = dataTypeSize(t.spec.type);
      const size_t chunkElems = static_cast<size_t>(comm->env.chunkBytes) / prog.elemSize;
      const bool tree =
          useTreeAlgorithm(t.args.kind, t.args.count * prog.elemSize, comm->shape, comm->env.algo,
                           static_cast<size_t>(comm->env.treeMaxBytes), !trees.empty());
      INFO(kLogColl, "rank %d: collective %d count %zu datatype %d algo %s", comm->rank,
           static_cast<int>(t.args.kind), t.args.count, static_cast<int>(t.spec.type),
           tree ? "Tree" : "Ring");
      prog.what = std::string(collName(t.args.kind)) + " of " + std::to_string(t.args.count) +
                  " x " + dataTypeName(t.spec.type) + (tree ? " (Tree)" : " (Ring)");
      if (tree)
        TCCL_CHECK(buildTreeProgram(t.args, trees, chunkElems, *comm->device, &prog));
      else
        buildRingProgram(t.args, views, chunkElems, &prog);
      if (t.args.kind == CollKind::kAllReduce && comm->exchange)
        prog.custom = makeDirectAllReduce(*comm->exchange, *comm->device, ++comm->directSeq,
                                          comm->rank, comm->nranks, t.args.sendbuff,
                                          t.args.recvbuff, t.args.count, t.spec);
      q.sequential.push_back(std::move(prog));
    }
    buildP2pProgram(comm, all[i].p2p, &q.concurrent);
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
