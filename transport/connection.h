// One direction of a hop: a FIFO of fixed-size slots with credit-based flow control. The
// sender fills the next free slot and commits it; the receiver consumes slots in order and
// releases them, which returns the credit. Calls never block: the executor polls.
#pragma once

#include <nccl.h>

#include <cstddef>
#include <string>

namespace tccl {

class Connection {
 public:
  virtual ~Connection() = default;
  virtual size_t slotBytes() const = 0;

  // Sender side.
  virtual void* trySendSlot() = 0;  // nullptr while no credit
  virtual void commitSend(size_t bytes) = 0;

  // Receiver side.
  virtual const void* tryRecvSlot(size_t* bytes) = 0;  // nullptr while empty
  virtual void releaseRecv() = 0;

  // ncclSuccess while the peer is healthy, otherwise why not (dead process, closed socket).
  virtual ncclResult_t checkPeer() = 0;
  // The hop asks for DMA copy engines rather than kernels for this side's copies.
  virtual bool copyEngine() const { return false; }
  virtual std::string describe() const = 0;
  // The rank at the other end, for messages (-1: not a rank, e.g. in tests).
  virtual int peer() const { return -1; }
};

}  // namespace tccl
