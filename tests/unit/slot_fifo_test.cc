// The slot FIFO of transport/slot_fifo.h: credits, ring order, sizes, and the counters'
// wrap-around, with a sender and a receiver thread over one control block.
#include "transport/slot_fifo.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

namespace tccl {
namespace {

template <typename Counter>
std::unique_ptr<SlotFifoControl<Counter>> makeControl(uint32_t nSlots, size_t slotBytes,
                                                      Counter start) {
  auto ctl = std::make_unique<SlotFifoControl<Counter>>();
  ctl->nSlots = nSlots;
  ctl->slotBytes = slotBytes;
  ctl->head = start;
  ctl->tail = start;
  return ctl;
}

TEST(SlotFifo, CreditsRunOutAndComeBackInRingOrder) {
  constexpr uint32_t kSlots = 3;
  auto ctl = makeControl<uint64_t>(kSlots, 100, 0);
  SlotFifoSender<uint64_t> tx(*ctl);
  SlotFifoReceiver<uint64_t> rx(*ctl);

  EXPECT_FALSE(rx.hasData());
  for (uint32_t i = 0; i < kSlots; ++i) {
    ASSERT_TRUE(tx.hasCredit()) << "slot " << i;
    EXPECT_EQ(tx.offset(), i * 100);
    tx.publishHead(tx.commit(10 + i));
  }
  EXPECT_FALSE(tx.hasCredit()) << "a credit beyond the " << kSlots << " slots";

  // A committed slot stays invisible until its head is published.
  ASSERT_TRUE(rx.hasData());
  EXPECT_EQ(rx.offset(), 0u);
  EXPECT_EQ(rx.bytes(), 10u);
  const uint64_t tail = rx.release();
  EXPECT_FALSE(tx.hasCredit()) << "the credit came back before the tail was published";
  rx.publishTail(tail);
  ASSERT_TRUE(tx.hasCredit());
  EXPECT_EQ(tx.offset(), 0u) << "the sender did not wrap to slot 0";
  tx.publishHead(tx.commit(99));

  for (uint32_t i = 1; i < kSlots; ++i) {
    ASSERT_TRUE(rx.hasData());
    EXPECT_EQ(rx.offset(), i * 100);
    EXPECT_EQ(rx.bytes(), 10 + i);
    rx.publishTail(rx.release());
  }
  ASSERT_TRUE(rx.hasData());
  EXPECT_EQ(rx.offset(), 0u) << "the receiver did not wrap to slot 0";
  EXPECT_EQ(rx.bytes(), 99u);
  rx.publishTail(rx.release());
  EXPECT_FALSE(rx.hasData());
}

// The sender thread fills slots with numbered messages of varying sizes; the receiver checks
// that they arrive whole and in order, and that no slot is ever held by both sides.
template <typename Counter>
void streamThroughFifo(uint32_t nSlots, Counter start, uint64_t messages) {
  constexpr size_t kSlotBytes = 64;
  auto ctl = makeControl<Counter>(nSlots, kSlotBytes, start);
  std::vector<unsigned char> data(nSlots * kSlotBytes);
  // 1 while the sender owns the slot (granted, not yet released by the receiver).
  std::vector<std::atomic<int>> owner(nSlots);
  std::atomic<uint64_t> overlaps{0}, overCredit{0};

  std::thread sender([&] {
    SlotFifoSender<Counter> tx(*ctl);
    for (uint64_t i = 0; i < messages; ++i) {
      while (!tx.hasCredit()) std::this_thread::yield();
      const size_t slot = tx.offset() / kSlotBytes;
      if (owner[slot].exchange(1) != 0) overlaps++;
      const Counter inFlight = static_cast<Counter>(std::atomic_ref<Counter>(ctl->head).load() -
                                                    std::atomic_ref<Counter>(ctl->tail).load());
      if (inFlight >= nSlots) overCredit++;
      unsigned char* p = data.data() + tx.offset();
      const size_t bytes = sizeof(i) + i % (kSlotBytes - sizeof(i) + 1);
      std::memcpy(p, &i, sizeof(i));
      std::memset(p + sizeof(i), static_cast<int>(i & 0xff), bytes - sizeof(i));
      tx.publishHead(tx.commit(bytes));
    }
  });

  uint64_t disorder = 0, torn = 0;
  SlotFifoReceiver<Counter> rx(*ctl);
  for (uint64_t i = 0; i < messages; ++i) {
    while (!rx.hasData()) std::this_thread::yield();
    const unsigned char* p = data.data() + rx.offset();
    uint64_t seq = 0;
    std::memcpy(&seq, p, sizeof(seq));
    if (seq != i) disorder++;
    const size_t bytes = rx.bytes();
    if (bytes != sizeof(i) + i % (kSlotBytes - sizeof(i) + 1)) torn++;
    for (size_t b = sizeof(i); b < bytes && b < kSlotBytes; ++b)
      if (p[b] != static_cast<unsigned char>(i & 0xff)) {
        torn++;
        break;
      }
    owner[rx.offset() / kSlotBytes].store(0);
    rx.publishTail(rx.release());
  }
  sender.join();

  EXPECT_EQ(disorder, 0u) << "messages out of order";
  EXPECT_EQ(torn, 0u) << "messages with a wrong size or content";
  EXPECT_EQ(overlaps.load(), 0u) << "slots granted to the sender while the receiver held them";
  EXPECT_EQ(overCredit.load(), 0u) << "credits granted with all slots in flight";
  EXPECT_EQ(ctl->head, static_cast<Counter>(start + messages));
  EXPECT_EQ(ctl->tail, ctl->head);
}

TEST(SlotFifo, TwoThreadsKeepOrderWithinCredits) {
  streamThroughFifo<uint64_t>(4, 0, 20000);
}

TEST(SlotFifo, OneSlot) {
  streamThroughFifo<uint64_t>(1, 0, 2000);
}

// 32-bit counters (those that GPU streams write) wrap within the run; 5 slots do not divide
// 2^32, so a slot index taken from the counter would jump.
TEST(SlotFifo, ThirtyTwoBitCountersWrapAround) {
  streamThroughFifo<uint32_t>(5, std::numeric_limits<uint32_t>::max() - 500, 5000);
}

TEST(SlotFifo, SixtyFourBitCountersWrapAround) {
  streamThroughFifo<uint64_t>(3, std::numeric_limits<uint64_t>::max() - 500, 5000);
}

}  // namespace
}  // namespace tccl
