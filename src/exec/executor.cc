#include "exec/executor.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>

#include "base/error.h"
#include "transport/connection.h"

namespace tccl {
namespace {

constexpr size_t kPostScanSteps = 64;  // how far ahead receive destinations are posted

// The step changes the data on its way through (PreMulSum scaling, integer Avg division).
bool transforms(const ReduceSpec& spec, const Step& s) {
  return (s.scaleLocal && spec.kind == ReduceKind::kPreMulSum) || (s.finalize && spec.divisor > 1);
}

// A step that only copies what it receives into its output can have it land there.
bool landsInOutput(const ReduceSpec& spec, const Step& s) {
  return s.recv && s.out && !s.local && !transforms(spec, s);
}

// Tells the receiving connections where the coming slots of such steps belong, as far ahead
// as each connection takes them (once per step of progress).
void postReceives(const Program& prog, Lane& lane) {
  if (lane.postedAt == lane.next) return;
  lane.postedAt = lane.next;
  struct Ahead {
    Connection* conn;
    size_t slots;  // receive steps on conn between lane.next and the step scanned
    bool stop;
  };
  std::array<Ahead, 4> ahead{};
  size_t nConns = 0, nStopped = 0;
  const size_t end = std::min(lane.steps.size(), lane.next + kPostScanSteps);
  for (size_t i = lane.next; i < end && (nConns == 0 || nStopped < nConns); ++i) {
    const Step& s = lane.steps[i];
    if (!s.recv) continue;
    Connection* c = s.recvConn ? s.recvConn : lane.recvConn;
    Ahead* a = std::find_if(ahead.begin(), ahead.begin() + nConns,
                            [c](const Ahead& x) { return x.conn == c; });
    if (a == ahead.begin() + nConns) {
      if (nConns == ahead.size()) break;
      *a = Ahead{c, 0, false};
      ++nConns;
    }
    if (a->stop) continue;
    if (landsInOutput(prog.spec, s) && !c->postRecv(a->slots, s.out, s.count * prog.elemSize)) {
      a->stop = true;
      ++nStopped;
    }
    ++a->slots;
  }
}

ncclResult_t progressLane(DeviceBackend& device, Program& prog, Lane& lane, int rank,
                          bool* progressed) {
  while (!lane.done()) {
    postReceives(prog, lane);
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
    // Zero-copy where the connections allow: the result goes out from the output buffer (or
    // the input, when the step only forwards it), and what landed in place needs no copy.
    const void* source = nullptr;
    if (s.send && sendConn->sendsFromCaller()) {
      if (s.out)
        source = s.out;
      else if (s.local && !s.recv && !transforms(prog.spec, s))
        source = s.local;
      if (source && !sendConn->canSendFrom(source, bytes)) source = nullptr;
    }
    const bool copyEngine =
        (s.send && sendConn->copyEngine()) || (s.recv && recvConn->copyEngine());
    DataStep d{s.local, rx, s.out, tx, s.count, s.scaleLocal, s.finalize, copyEngine};
    if (source) d.out1 = nullptr;
    if (s.recv && rx == s.out) d.out0 = nullptr;  // it landed there
    if (d.out0 || d.out1) TCCL_CHECK(device.run(prog.spec, d));
    if (source) {
      sendConn->commitSendFrom(source, bytes);
      auto& list = prog.sendsFromCaller;
      if (std::find(list.begin(), list.end(), sendConn) == list.end()) list.push_back(sendConn);
    } else if (s.send) {
      sendConn->commitSend(bytes);
    }
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
  if (!*done) return ncclSuccess;
  // The caller gets its buffers back only once no connection reads them any more.
  auto& list = prog.sendsFromCaller;
  list.erase(
      std::remove_if(list.begin(), list.end(), [](Connection* c) { return !c->sendsInFlight(); }),
      list.end());
  *done = list.empty();
  return ncclSuccess;
}

ncclResult_t checkPeers(const WorkQueue& q) {
  auto check = [](const Program& prog) -> ncclResult_t {
    if (prog.custom) return prog.custom->checkPeers();
    for (Connection* c : prog.sendsFromCaller) TCCL_CHECK(c->checkPeer());
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

// After a failure, the connections of the unfinished programs stop touching the caller's
// buffers (posted receives, sends from caller memory) before the call returns.
void abandonPrograms(const std::vector<WorkQueue*>& queues) {
  std::vector<Connection*> conns;
  auto add = [&conns](Connection* c) {
    if (c && std::find(conns.begin(), conns.end(), c) == conns.end()) conns.push_back(c);
  };
  auto collect = [&](const Program& prog) {
    for (Connection* c : prog.sendsFromCaller) add(c);
    for (const Lane& lane : prog.lanes) {
      add(lane.recvConn);
      add(lane.sendConn);
      for (size_t i = lane.next; i < lane.steps.size(); ++i) {
        add(lane.steps[i].recvConn);
        add(lane.steps[i].sendConn);
      }
    }
  };
  for (const WorkQueue* q : queues) {
    if (q->current < q->sequential.size()) collect(q->sequential[q->current]);
    collect(q->concurrent);
  }
  for (Connection* c : conns) c->abandon();
}

ncclResult_t runUntilDone(const std::vector<WorkQueue*>& queues, const WaitPolicy& policy) {
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

}  // namespace

ncclResult_t runWorkQueues(const std::vector<WorkQueue*>& queues, const WaitPolicy& policy) {
  ncclResult_t res = runUntilDone(queues, policy);
  if (res != ncclSuccess) abandonPrograms(queues);
  return res;
}

}  // namespace tccl
