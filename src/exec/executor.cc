#include "exec/executor.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <string>

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
    if (s.recv && !(rx = recvConn->tryRecvSlot(&rxBytes))) {
      lane.waiting = Lane::Wait::kRecv;
      return ncclSuccess;
    }
    void* tx = nullptr;
    if (s.send && !(tx = sendConn->trySendSlot())) {
      lane.waiting = Lane::Wait::kSend;
      return ncclSuccess;
    }
    lane.waiting = Lane::Wait::kNone;
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

// What a stalled queue waits for: the operation, the step and the peer that sent nothing (or
// returned no slot).
std::string describeStall(const WorkQueue& q) {
  const Program* prog = q.current < q.sequential.size() ? &q.sequential[q.current] : &q.concurrent;
  std::string what = prog->what.empty() ? "point-to-point operations" : prog->what;
  if (prog->custom) return what + ": " + prog->custom->describeWait();
  for (size_t l = 0; l < prog->lanes.size(); ++l) {
    const Lane& lane = prog->lanes[l];
    if (lane.done() || lane.waiting == Lane::Wait::kNone) continue;
    const Step& s = lane.steps[lane.next];
    const bool recv = lane.waiting == Lane::Wait::kRecv;
    const Connection* c = recv ? (s.recvConn ? s.recvConn : lane.recvConn)
                               : (s.sendConn ? s.sendConn : lane.sendConn);
    const std::string who = c->peer() >= 0 ? "rank " + std::to_string(c->peer()) : "the peer";
    return what + ": " + who + " made no progress: lane " + std::to_string(l) + " waits at step " +
           std::to_string(lane.next + 1) + " of " + std::to_string(lane.steps.size()) +
           (recv ? " for data it did not send (" : " for a slot it did not free (") +
           c->describe() + ")";
  }
  return what;
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
    if (idle > policy.timeoutSec) {
      const WorkQueue* stuck = queues.front();
      for (const WorkQueue* q : queues) {
        const auto& lanes = q->concurrent.lanes;
        if (q->current < q->sequential.size() ||
            std::any_of(lanes.begin(), lanes.end(), [](const Lane& l) { return !l.done(); })) {
          stuck = q;
          break;
        }
      }
      std::string more = policy.diagnoseStall ? policy.diagnoseStall() : "";
      return setError(ncclRemoteError, "rank %d: no progress for %.0f s (TCCL_TIMEOUT) in %s%s%s",
                      stuck->rank, idle, describeStall(*stuck).c_str(), more.empty() ? "" : "; ",
                      more.c_str());
    }
    backOff(idleRounds++, idle, policy.yieldSec);
  }
}

}  // namespace tccl
