// What the executor runs: per lane, a sequence of data steps over at most one incoming and
// one outgoing connection. Schedules (ring, p2p, tree) compile collectives into lanes; the
// executor interprets them without knowing which collective, transport or device it runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device/device_backend.h"

namespace tccl {

class Connection;

struct Step {
  const void* local = nullptr;  // this rank's input, if the step reads one
  void* out = nullptr;          // this rank's output, if the step writes one
  size_t count = 0;             // elements
  bool recv = false;            // combine with the next slot from the lane's recv connection
  bool send = false;            // write the result into the lane's send connection
  bool scaleLocal = false;
  bool finalize = false;
  // Tree steps talk to several peers: when set, these replace the lane's connections.
  Connection* recvConn = nullptr;
  Connection* sendConn = nullptr;
};

// A connection serves at most one lane of the programs that run at once: the executor counts a
// lane's own receive steps to post where the coming slots belong.
struct Lane {
  enum class Wait { kNone, kRecv, kSend };
  Connection* recvConn = nullptr;
  Connection* sendConn = nullptr;
  std::vector<Step> steps;
  size_t next = 0;             // first step not yet run
  Wait waiting = Wait::kNone;  // why the next step could not run, last time it was tried
  size_t postedAt = SIZE_MAX;  // `next` when receive destinations were last posted
  bool done() const { return next == steps.size(); }
};

// An operation that is not a lane schedule, polled by the executor: a direct algorithm over
// buffers that all ranks can address. It may hand over to the program's lanes instead.
class CustomOp {
 public:
  enum class Outcome { kRunning, kDone, kUseLanes };
  virtual ~CustomOp() = default;
  virtual ncclResult_t progress(bool* progressed, Outcome* outcome) = 0;
  virtual ncclResult_t checkPeers() = 0;
  // For a timeout message: what it waits for ("rank 2 has not ...").
  virtual std::string describeWait() { return "waiting for the other ranks"; }
};

// One collective (or one group's point-to-point traffic) on one communicator: lanes progress
// independently and the program is done when all of them are.
struct Program {
  std::string what;  // for error messages: "AllReduce of 1024 x float (Ring)"
  ReduceSpec spec;
  size_t elemSize = 1;
  std::vector<Lane> lanes;
  std::unique_ptr<CustomOp> custom;  // runs first when set
  std::shared_ptr<void> scratch;     // partial results the steps point into (tree reductions)
  std::vector<std::shared_ptr<void>> keepAlive;  // other memory the steps point into
  // Connections that still read the caller's buffers (Connection::commitSendFrom): the
  // program is done only once they have let go.
  std::vector<Connection*> sendsFromCaller;
};

}  // namespace tccl
