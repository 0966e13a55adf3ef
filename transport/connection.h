// One direction of a hop: a FIFO of fixed-size slots with credit-based flow control. The
// sender fills the next free slot and commits it; the receiver consumes slots in order and
// releases them, which returns the credit. Calls never block: the executor polls.
//
// A connection whose slots are filled and drained in host memory by helper threads may also
// skip the staging copies: the sender hands over the caller's memory instead of filling a slot,
// and the receiver names where a slot should land. Both are optional; a connection that cannot
// keeps the defaults and every slot goes through its staging buffer.
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

  // Sender, zero-copy: commits the slot that trySendSlot granted with its bytes read from `src`
  // (host memory) instead of the slot. `src` must stay unchanged while sendsInFlight().
  virtual bool sendsFromCaller() const { return false; }
  virtual void commitSendFrom(const void* src, size_t bytes) {
    (void)src;
    (void)bytes;
  }
  virtual bool sendsInFlight() const { return false; }  // caller memory still being read
  // Asked when sendsFromCaller(): may this step's bytes go out from `src`? A network that must
  // register memory first says no for memory it cannot register; the step is then staged.
  virtual bool canSendFrom(const void* src, size_t bytes) const {
    (void)src;
    (void)bytes;
    return true;
  }

  // Receiver, zero-copy: asks that the slot `ahead` places after the next unreleased one land
  // in `dest` (host memory, `bytes` long). False when the connection cannot, or `ahead` is not
  // below slotCount(). A slot that started to arrive before it was posted lands in its staging
  // slot as usual; tryRecvSlot returns where the slot landed. Posting a slot twice is harmless.
  virtual bool postRecv(size_t ahead, void* dest, size_t bytes) {
    (void)ahead;
    (void)dest;
    (void)bytes;
    return false;
  }

  // The operation using this connection failed: from now on nothing touches caller memory
  // handed over by commitSendFrom or postRecv (returns once no helper does). If any was still
  // pending, the connection is out of step with its peer and fails.
  virtual void abandon() {}

  // ncclSuccess while the peer is healthy, otherwise why not (dead process, closed socket).
  virtual ncclResult_t checkPeer() = 0;
  // The hop asks for DMA copy engines rather than kernels for this side's copies.
  virtual bool copyEngine() const { return false; }
  virtual std::string describe() const = 0;
  // The rank at the other end, for messages (-1: not a rank, e.g. in tests).
  virtual int peer() const { return -1; }
};

}  // namespace tccl
