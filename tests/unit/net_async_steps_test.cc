// The net transport with asynchronous steps (how GPU data is staged): a commit reaches the
// peer, and a release returns its credit, only once AsyncSteps runs the publication. A fake
// AsyncSteps holds publications until the test lets them go; two forked ranks talk over
// loopback sockets and coordinate through the bootstrap.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/bootstrap.h"
#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "common/forked_ranks.h"
#include "common/rank_checks.h"
#include "transport/net/net_connection.h"

namespace tccl {
namespace {

class HeldSteps final : public AsyncSteps {
 public:
  ncclResult_t adopt(void* base, size_t bytes, void** stepBase) override {
    ++adopted;
    adoptedBytes = bytes;
    *stepBase = base;
    return ncclSuccess;
  }
  ncclResult_t afterIssuedSteps(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    held_.push_back(std::move(fn));
    return ncclSuccess;
  }
  void drain() override { releaseAll(); }
  ncclResult_t check() override {
    return deviceError ? setError(ncclUnhandledCudaError, "fake device failure") : ncclSuccess;
  }

  size_t held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_.size();
  }
  void releaseAll() {
    std::deque<std::function<void()>> run;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      run.swap(held_);
    }
    for (auto& fn : run) fn();
  }

  int adopted = 0;
  size_t adoptedBytes = 0;
  bool deviceError = false;

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> held_;
};

constexpr size_t kSlotBytes = 4096;
constexpr uint32_t kSignalTag = bootstrap_tags::kTests.first + 0x77;

using test::pollFor;

int rankBody(int rank, int nranks, const ncclUniqueId& id, int fd) {
  auto report = [fd](const std::string& s) { (void)!write(fd, s.data(), s.size()); };
  std::unique_ptr<Bootstrap> bs;
  REQUIRE(Bootstrap::create(id, rank, nranks, 30, &bs) == ncclSuccess, lastThreadError());
  auto steps = std::make_shared<HeldSteps>();
  NetConnectionSpec spec;
  spec.slotBytes = kSlotBytes;
  spec.nSlots = 1;  // one slot: a held release must stop the sender
  spec.tag = 0x500;
  spec.nThreads = 1;
  spec.nSocksPerThread = 2;
  spec.setupTimeoutSec = 20;
  spec.closeTimeoutSec = 20;
  spec.asyncSteps = steps;
  std::unique_ptr<Connection> conn;
  char signal = 0;
  if (rank == 0) {
    REQUIRE(netConnectSend(*bs, 1, spec, &conn) == ncclSuccess, lastThreadError());
    REQUIRE(netAwaitReceiver(*conn) == ncclSuccess, lastThreadError());
    REQUIRE(steps->adopted == 1 && steps->adoptedBytes == kSlotBytes, "staging not adopted");
    REQUIRE(conn->copyEngine(), "a device-staged hop should ask for copy engines");
    // 1. A held commit does not reach the receiver.
    char* slot = static_cast<char*>(conn->trySendSlot());
    REQUIRE(slot, "no first send slot");
    memset(slot, 'a', kSlotBytes);
    conn->commitSend(kSlotBytes);
    REQUIRE(steps->held() == 1, "commitSend did not defer its publication");
    REQUIRE(bs->send(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    REQUIRE(bs->recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    steps->releaseAll();
    // 2. The receiver holds its release: no credit, so no second slot.
    REQUIRE(bs->recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    REQUIRE(!pollFor(0.3, [&] { return conn->trySendSlot(); }),
            "a send slot was free before the receiver's release was published");
    REQUIRE(bs->send(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    slot = static_cast<char*>(pollFor(10, [&] { return conn->trySendSlot(); }));
    REQUIRE(slot, "the published release never returned the credit");
    memset(slot, 'b', 100);
    conn->commitSend(100);
    // 3. The destructor drains what is still held, so the last slot arrives.
  } else {
    REQUIRE(netConnectRecv(*bs, 0, spec, &conn) == ncclSuccess, lastThreadError());
    REQUIRE(bs->recv(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    size_t bytes = 0;
    REQUIRE(!pollFor(0.3, [&] { return conn->tryRecvSlot(&bytes); }),
            "a slot arrived before the sender's commit was published");
    REQUIRE(bs->send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    auto* data = static_cast<const char*>(pollFor(10, [&] { return conn->tryRecvSlot(&bytes); }));
    REQUIRE(data && bytes == kSlotBytes, "the published commit never arrived");
    for (size_t i = 0; i < kSlotBytes; ++i) REQUIRE(data[i] == 'a', "corrupt first slot");
    conn->releaseRecv();
    REQUIRE(steps->held() == 1, "releaseRecv did not defer its publication");
    REQUIRE(bs->send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    REQUIRE(bs->recv(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    steps->releaseAll();
    data = static_cast<const char*>(pollFor(10, [&] { return conn->tryRecvSlot(&bytes); }));
    REQUIRE(data && bytes == 100 && data[0] == 'b' && data[99] == 'b', "second slot wrong");
    conn->releaseRecv();
    // 4. A device error surfaces through checkPeer.
    REQUIRE(conn->checkPeer() == ncclSuccess, "healthy hop reported " + lastThreadError());
    steps->deviceError = true;
    REQUIRE(conn->checkPeer() == ncclUnhandledCudaError, "device error not reported");
    steps->deviceError = false;
  }
  conn.reset();
  return 0;
}

TEST(NetAsyncSteps, PublicationsWaitForTheSteps) {
  setenv("NCCL_SOCKET_IFNAME", "lo", 1);
  auto outcomes = test::runForkedRanks(2, rankBody, {}, 60);
  ASSERT_EQ(outcomes.size(), 2u);
  for (size_t r = 0; r < outcomes.size(); ++r)
    EXPECT_EQ(outcomes[r].exitCode, 0) << "rank " << r << ": " << outcomes[r].report;
}

}  // namespace
}  // namespace tccl
