// The network hop: a slot FIFO whose sender and receiver are on different nodes, joined by
// several TCP sockets. The executor fills and drains staging slots exactly as with shared
// memory; helper threads stripe each committed slot over the sockets and return the
// receiver's credits. Everything read from a socket is validated before it is used.
#pragma once

#include <atomic>
#include <memory>

#include "base/bootstrap.h"
#include "transport/async_steps.h"
#include "transport/connection.h"

namespace tccl {

struct NetConnectionSpec {
  size_t slotBytes = 1 << 20;
  int nSlots = 4;
  int numaNode = -1;        // bind the staging buffer here when the node exists; -1: first touch
  uint32_t tag = 0;         // distinguishes connections between the same two ranks
  int nThreads = 1;         // NCCL_SOCKET_NTHREADS
  int nSocksPerThread = 1;  // NCCL_NSOCKS_PERTHREAD
  double setupTimeoutSec = 120;  // connecting and accepting
  double closeTimeoutSec = 300;  // at destruction, how long to wait for the peer to drain
  const std::atomic<bool>* abortFlag = nullptr;  // set: close at once, without draining
  // Set when the steps that fill and drain the staging slots run asynchronously (GPU data):
  // the staging buffer is adopted by it, and commits and releases reach the helper threads
  // only once the steps issued before them have finished. One per connection.
  std::shared_ptr<AsyncSteps> asyncSteps;
};

// Setup runs in the same three phases as the shm hop, so callers treat both alike:
// netConnectSend listens and publishes its address through the bootstrap, netConnectRecv
// connects the sockets, netAwaitReceiver (the sender's last step) accepts and checks them.
ncclResult_t netConnectSend(Bootstrap& bootstrap, int peer, const NetConnectionSpec& spec,
                            std::unique_ptr<Connection>* out);
ncclResult_t netConnectRecv(Bootstrap& bootstrap, int peer, const NetConnectionSpec& spec,
                            std::unique_ptr<Connection>* out);
ncclResult_t netAwaitReceiver(Connection& sendConnection);

}  // namespace tccl
