// The slot FIFO behind the shm and CUDA connections (transport/connection.h): nSlots slots of
// slotBytes each in memory that both sides map, and a control block with two counters that
// carries the flow control across processes.
//
// Protocol
// - head counts the slots committed. Only the sending side writes it: the sender's host thread
//   (shm), or its GPU stream after the work that filled the slot (CUDA). The receiver reads it.
// - tail counts the slots released. Only the receiving side writes it (host thread or GPU
//   stream after the work that read the slot); the sender reads it.
// - Both only grow, modulo 2^bits of Counter. head - tail, computed in Counter's unsigned
//   arithmetic, is the number of slots in flight; it never exceeds nSlots. The sender may fill
//   a slot while head - tail < nSlots (it holds a credit); the receiver may read one while
//   head != tail. Being differences, both tests hold across the counters' wrap-around.
// - Slots are used in ring order. Each side keeps the index of its next slot next to its
//   counter and steps it modulo nSlots; since the counters wrap at 2^bits, which nSlots need not
//   divide, the index is never derived from the counter. Both sides start at slot 0, the sender
//   from the head it finds and the receiver from the tail: head == tail when the FIFO is set up
//   (zero in a fresh control block).
// - Ordering: the sender writes the slot and sizes[slot] before it publishes head with release
//   semantics; the receiver loads head with acquire before it reads them. Symmetrically, the
//   receiver is done with a slot before it publishes tail, which the sender loads with acquire
//   before it refills the slot. A counter written by a GPU stream is ordered after the stream's
//   earlier work; the host's write of sizes[slot] must then be fenced (seq_cst) before the
//   stream write is enqueued.
// - Each side caches the other's counter and reads it again only when the cached value says
//   "no credit" or "empty". head and tail have a cache line each, apart from the rest of the
//   header, so the two sides never write into one line.
//
// Counter: uint64_t for counters written by the host (shm); uint32_t for counters written by
// CUDA stream memory operations, which write 32-bit values.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tccl {

namespace slot_fifo {
inline constexpr int kMaxSlots = 64;
// Where the slots start in a segment that holds the control block and the slots.
inline constexpr size_t kDataOffset = 4096;
inline constexpr size_t kCacheLine = 64;
}  // namespace slot_fifo

// The part of a FIFO's shared header that the FIFO owns; a transport derives its header from
// it and adds its own fields after it. Zero-initialise it ({}), then set magic, nSlots and
// slotBytes before the peer maps it.
template <typename Counter>
struct SlotFifoControl {
  static_assert(std::is_same_v<Counter, uint32_t> || std::is_same_v<Counter, uint64_t>);
  static_assert(std::atomic_ref<Counter>::is_always_lock_free, "counters are shared by processes");

  alignas(slot_fifo::kCacheLine) Counter head;    // slots committed: written by the sender
  alignas(slot_fifo::kCacheLine) Counter tail;    // slots released: written by the receiver
  alignas(slot_fifo::kCacheLine) uint32_t magic;  // which transport's FIFO this is
  uint32_t nSlots;
  uint64_t slotBytes;
  uint64_t sizes[slot_fifo::kMaxSlots];  // bytes of each committed slot, written by the sender
};

namespace slot_fifo {
template <typename Counter>
Counter load(Counter& c) {
  return std::atomic_ref<Counter>(c).load(std::memory_order_acquire);
}
template <typename Counter>
void publish(Counter& c, Counter value) {
  std::atomic_ref<Counter>(c).store(value, std::memory_order_release);
}

// What both sides keep: the FIFO and the index of their next slot.
template <typename Counter>
class Cursor {
 public:
  // Where the side's next slot starts, from the start of the slots.
  size_t offset() const { return slot_ * slotBytes_; }

 protected:
  explicit Cursor(SlotFifoControl<Counter>& ctl)
      : ctl_(&ctl), nSlots_(ctl.nSlots), slotBytes_(ctl.slotBytes) {}
  void step() { slot_ = slot_ + 1 == nSlots_ ? 0 : slot_ + 1; }

  SlotFifoControl<Counter>* ctl_;
  uint32_t nSlots_;
  size_t slotBytes_;
  uint32_t slot_ = 0;
};
}  // namespace slot_fifo

// The sending side. offset() is valid while hasCredit().
template <typename Counter>
class SlotFifoSender : public slot_fifo::Cursor<Counter> {
 public:
  explicit SlotFifoSender(SlotFifoControl<Counter>& ctl)
      : slot_fifo::Cursor<Counter>(ctl),
        sent_(slot_fifo::load(ctl.head)),
        cachedTail_(slot_fifo::load(ctl.tail)) {}

  // True when the next slot is free to fill.
  bool hasCredit() {
    if (static_cast<Counter>(sent_ - cachedTail_) >= this->nSlots_) {
      cachedTail_ = slot_fifo::load(this->ctl_->tail);
      if (static_cast<Counter>(sent_ - cachedTail_) >= this->nSlots_) return false;
    }
    return true;
  }

  // Records the slot's size and moves on; returns the head that commits it, for the caller to
  // publish: publishHead from the host, or a GPU stream write ordered after the slot's filling.
  Counter commit(size_t bytes) {
    this->ctl_->sizes[this->slot_] = bytes;
    this->step();
    return ++sent_;
  }
  void publishHead(Counter head) { slot_fifo::publish(this->ctl_->head, head); }

 private:
  Counter sent_, cachedTail_;
};

// The receiving side. offset() and bytes() are valid while hasData().
template <typename Counter>
class SlotFifoReceiver : public slot_fifo::Cursor<Counter> {
 public:
  explicit SlotFifoReceiver(SlotFifoControl<Counter>& ctl)
      : slot_fifo::Cursor<Counter>(ctl),
        received_(slot_fifo::load(ctl.tail)),
        cachedHead_(received_) {}

  // True when the next slot has been committed.
  bool hasData() {
    if (received_ == cachedHead_) {
      cachedHead_ = slot_fifo::load(this->ctl_->head);
      if (received_ == cachedHead_) return false;
    }
    return true;
  }
  size_t bytes() const { return this->ctl_->sizes[this->slot_]; }

  // Moves on; returns the tail that releases the slot, for the caller to publish: publishTail
  // from the host, or a GPU stream write ordered after the slot's reading.
  Counter release() {
    this->step();
    return ++received_;
  }
  void publishTail(Counter tail) { slot_fifo::publish(this->ctl_->tail, tail); }

 private:
  Counter received_, cachedHead_;
};

}  // namespace tccl
