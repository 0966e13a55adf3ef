// For a transport whose slots are filled and drained by steps that finish after the executor
// issues them (the cuda backend runs them on a stream): how the transport's host buffer is
// made reachable by those steps, and how a commit or release waits for the steps issued
// before it. Host transports need none of this; the net transport takes one when the
// communicator's data lives on a GPU.
#pragma once

#include <nccl.h>

#include <cstddef>
#include <functional>

namespace tccl {

class AsyncSteps {
 public:
  virtual ~AsyncSteps() = default;
  // Makes [base, base + bytes) reachable by the steps; *stepBase is the address they use for
  // `base`. Called once; the buffer stays reachable until this object is destroyed.
  virtual ncclResult_t adopt(void* base, size_t bytes, void** stepBase) = 0;
  // Runs `fn` once every step issued so far has finished. `fn` runs on another thread and
  // must be short and never block.
  virtual ncclResult_t afterIssuedSteps(std::function<void()> fn) = 0;
  // Waits until every step and every `fn` issued so far has run (before teardown).
  virtual void drain() = 0;
  // ncclSuccess while the device is healthy; its error otherwise.
  virtual ncclResult_t check() = 0;
};

}  // namespace tccl
