#include "exec/executor.h"

#include <sched.h>
#include <time.h>

#include <chrono>

#include "core/error.h"
#include "transport/connection.h"

namespace tccl {
namespace {

ncclResult_t progressLane(DeviceBackend& device, const Program& prog, Lane& lane, int rank,
                          bool* progressed) {
  while (!lane.done()) {
    const Step& s = lane.steps[lane.next];
    const size_t bytes = s.count * prog.elemSize;
    Connection* recvConn = s.recvConn ? s.recvConn : lane.recvConn;
    Connection* sendConn = s.sendConn ? s.sendConn : lane.sendConn;
    const void* rx = nullptr;
    size_t rxBytes = 0;
    if (s.recv && !(rx = recvConn->tryRecvSlot(&rxBytes))) return ncclSuccess;
    void* tx = nullptr;
    if (s.send && !(tx = sendConn->trySendSlot())) return ncclSuccess;
    if (s.recv && rxBytes != bytes)
      return setError(ncclInvalidUsage,
                      "rank %d: received %zu bytes (%s) where %zu were expected: the ranks called "
                      "mismatched operations (count, datatype or order)",
                      rank, rxBytes, recvConn->describe().c_str(), bytes);
    if (s.send && bytes > sendConn->slotBytes())
      return setError(ncclInternalError, "step of %zu bytes exceeds the %zu-byte slot", bytes,
                      sendConn->slotBytes());
    DataStep d{s.local, rx, s.out, tx, s.count, s.scaleLocal, s.finalize,
               (s.send && sendConn->copyEngine()) || (s.recv && recvConn->copyEngine())};
    TCCL_CHECK(device.run(prog.spec, d));
    if (s.send) sendConn->commitSend(bytes);
    if (s.recv) recvConn->releaseRecv();
    ++lane.next;
    *progressed = true;
  }
  return ncclSuccess;
}

ncclResult_t progressProgram(DeviceBackend& device, Program& prog, int rank, bool* progressed,
                             bool* done) {
  if (prog.custom) {
    CustomOp::Outcome outcome = CustomOp::Outcome::kRunning;
    TCCL_CHECK(prog.custom->progress(progressed, &outcome));
    if (outcome == CustomOp::Outcome::kRunning) {
      *done = false;
      return ncclSuccess;
    }
    if (outcome == CustomOp::Outcome::kDone) prog.lanes.clear();
    prog.custom.reset();
  }
  *done = true;
  for (Lane& lane : prog.lanes) {
    TCCL_CHECK(progressLane(device, prog, lane, rank, progressed));
    *done = *done && lane.done();
  }
  return ncclSuccess;
}

ncclResult_t checkPeers(const WorkQueue& q) {
  auto check = [](const Program& prog) -> ncclResult_t {
    if (prog.custom) return prog.custom->checkPeers();
    for (const Lane& lane : prog.lanes) {
      if (lane.done()) continue;
      const Step& s = lane.steps[lane.next];
      for (Connection* c :
           {s.recvConn ? s.recvConn : lane.recvConn, s.sendConn ? s.sendConn : lane.sendConn})
        if (c) TCCL_CHECK(c->checkPeer());
    }
    return ncclSuccess;
  };
  if (q.current < q.sequential.size()) TCCL_CHECK(check(q.sequential[q.current]));
  return check(q.concurrent);
}

// Stalled: spin briefly, then yield the core to other ranks, then sleep in short naps.
void backOff(int idleRounds, double idleSec, double yieldSec) {
  if (idleRounds < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else if (idleSec < yieldSec) {
    sched_yield();
  } else {
    timespec ts{0, idleSec < 0.05 ? 20000 : 200000};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace

ncclResult_t runWorkQueues(const std::vector<WorkQueue*>& queues, const WaitPolicy& policy) {
  using Clock = std::chrono::steady_clock;
  auto lastProgress = Clock::now();
  auto lastPeerCheck = lastProgress;
  int idleRounds = 0;
  while (true) {
    bool allDone = true, progressed = false;
    for (WorkQueue* q : queues) {
      if (q->abortFlag && q->abortFlag->load(std::memory_order_relaxed))
        return setError(ncclInvalidUsage, "rank %d: the communicator was aborted", q->rank);
      while (q->current < q->sequential.size()) {
        bool done = false;
        TCCL_CHECK(
            progressProgram(*q->device, q->sequential[q->current], q->rank, &progressed, &done));
        if (!done) break;
        ++q->current;
      }
      bool p2pDone = false;
      TCCL_CHECK(progressProgram(*q->device, q->concurrent, q->rank, &progressed, &p2pDone));
      allDone = allDone && p2pDone && q->current == q->sequential.size();
    }
    if (allDone) return ncclSuccess;
    auto now = Clock::now();
    if (progressed) {
      lastProgress = now;
      idleRounds = 0;
      continue;
    }
    double idle = std::chrono::duration<double>(now - lastProgress).count();
    if (std::chrono::duration<double>(now - lastPeerCheck).count() > policy.peerCheckSec) {
      lastPeerCheck = now;
      for (WorkQueue* q : queues) TCCL_CHECK(checkPeers(*q));
    }
    if (idle > policy.timeoutSec)
      return setError(ncclRemoteError,
                      "rank %d: no progress for %.0f s (TCCL_TIMEOUT): a peer is stuck",
                      queues.front()->rank, idle);
    backOff(idleRounds++, idle, policy.yieldSec);
  }
}

}  // namespace tccl
