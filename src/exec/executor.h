// The schedule interpreter. It runs the steps of every lane as far as their connections
// allow, for any number of communicators at once (a group may drive several from one thread),
// and waits without burning a core when nothing can move.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "device/device_backend.h"
#include "exec/program.h"

namespace tccl {

// The work of one communicator in one group: collectives run one after another (they share
// the ring connections); point-to-point lanes run alongside them.
struct WorkQueue {
  DeviceBackend* device = nullptr;
  std::vector<Program> sequential;
  Program concurrent;
  const std::atomic<bool>* abortFlag = nullptr;
  int rank = 0;
  size_t current = 0;  // first unfinished entry of `sequential`
};

struct WaitPolicy {
  double timeoutSec = 300;    // no progress for this long is an error
  double peerCheckSec = 0.5;  // how often to look for dead peers while stalled
  double yieldSec = 0.002;    // stalled longer than this: nap instead of yielding the core
  // At the timeout: what else the caller knows about the stall (a stopped process...); added
  // to the message when not empty.
  std::function<std::string()> diagnoseStall;
};

ncclResult_t runWorkQueues(const std::vector<WorkQueue*>& queues, const WaitPolicy& policy);

}  // namespace tccl
