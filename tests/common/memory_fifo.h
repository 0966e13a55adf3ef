// An in-process Connection for schedule tests: one thread plays every rank.
#pragma once

#include <string>
#include <vector>

#include "transport/connection.h"

namespace tccl::test {

class MemoryFifo final : public Connection {
 public:
  MemoryFifo(size_t slotBytes, size_t nSlots)
      : slotBytes_(slotBytes), slots_(nSlots, std::vector<char>(slotBytes)), sizes_(nSlots) {}
  size_t slotBytes() const override { return slotBytes_; }
  void* trySendSlot() override {
    return head_ - tail_ < slots_.size() ? slots_[head_ % slots_.size()].data() : nullptr;
  }
  void commitSend(size_t bytes) override { sizes_[head_++ % slots_.size()] = bytes; }
  const void* tryRecvSlot(size_t* bytes) override {
    if (tail_ == head_) return nullptr;
    *bytes = sizes_[tail_ % slots_.size()];
    return slots_[tail_ % slots_.size()].data();
  }
  void releaseRecv() override { ++tail_; }
  ncclResult_t checkPeer() override { return ncclSuccess; }
  std::string describe() const override { return "memory fifo"; }

 private:
  size_t slotBytes_;
  std::vector<std::vector<char>> slots_;
  std::vector<size_t> sizes_;
  size_t head_ = 0, tail_ = 0;
};

}  // namespace tccl::test
