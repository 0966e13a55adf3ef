// The net transport's zero-copy paths: slots sent straight from caller memory, slots landing
// where the receiver posted them, the fall-backs to staging (posted too late, posted for another
// size) and abandon(). Two forked ranks talk over loopback sockets and coordinate through the
// bootstrap.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/bootstrap.h"
#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "common/forked_ranks.h"
#include "common/rank_checks.h"
#include "transport/net/net_connection.h"

namespace tccl {
namespace {

constexpr size_t kSlotBytes = 64 << 10;
constexpr uint32_t kSignalTag = bootstrap_tags::kTests.first + 0x78;

using test::pollFor;

NetConnectionSpec testSpec(uint32_t tag) {
  NetConnectionSpec spec;
  spec.slotBytes = kSlotBytes;
  spec.nSlots = 4;
  spec.tag = tag;
  spec.nThreads = 1;
  spec.nSocksPerThread = 3;  // stripes of unequal length
  spec.setupTimeoutSec = 20;
  spec.closeTimeoutSec = 20;
  return spec;
}

std::vector<char> pattern(size_t bytes, int seed) {
  std::vector<char> v(bytes);
  for (size_t i = 0; i < bytes; ++i) v[i] = static_cast<char>((i * 31 + seed) % 251);
  return v;
}

// Rank 0 sends four slots from its own memory; rank 1 posts where they should land:
//   slot 0: posted in time, lands in place;  slot 1: posted for another size, staged;
//   slot 2: not posted, staged;               slot 3: posted after it arrived, staged.
int zeroCopyBody(int rank, int nranks, const ncclUniqueId& id, int fd) {
  auto report = [fd](const std::string& s) { (void)!write(fd, s.data(), s.size()); };
  std::unique_ptr<Bootstrap> bs;
  REQUIRE(Bootstrap::create(id, rank, nranks, 30, &bs) == ncclSuccess, lastThreadError());
  const NetConnectionSpec spec = testSpec(0x600);
  const size_t sizes[4] = {kSlotBytes, 1000, kSlotBytes - 7, 12345};
  std::unique_ptr<Connection> conn;
  char signal = 0;
  if (rank == 0) {
    REQUIRE(netConnectSend(*bs, 1, spec, &conn) == ncclSuccess, lastThreadError());
    REQUIRE(netAwaitReceiver(*conn) == ncclSuccess, lastThreadError());
    REQUIRE(conn->sendsFromCaller(), "a host net hop should send from caller memory");
    REQUIRE(bs->recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());  // posted
    std::vector<std::vector<char>> data;
    for (int k = 0; k < 4; ++k) {
      data.push_back(pattern(sizes[k], k));
      REQUIRE(pollFor(10, [&] { return conn->trySendSlot(); }), "no credit");
      if (k == 2) {
        memcpy(conn->trySendSlot(), data[k].data(), sizes[k]);
        conn->commitSend(sizes[k]);
      } else {
        conn->commitSendFrom(data[k].data(), sizes[k]);
      }
      if (k == 2) {  // the receiver posts slot 3 only once slot 2 is in
        REQUIRE(bs->recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
      }
    }
    REQUIRE(pollFor(10, [&] { return !conn->sendsInFlight(); }), "caller memory never handed over");
    REQUIRE(bs->recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());  // all in
  } else {
    REQUIRE(netConnectRecv(*bs, 0, spec, &conn) == ncclSuccess, lastThreadError());
    std::vector<char> dest0(kSlotBytes, 0), dest1(kSlotBytes, 0), dest3(kSlotBytes, 0);
    REQUIRE(!conn->postRecv(4, dest0.data(), kSlotBytes), "posted beyond the slot count");
    REQUIRE(conn->postRecv(0, dest0.data(), sizes[0]), "cannot post slot 0");
    REQUIRE(conn->postRecv(0, dest0.data(), sizes[0]), "posting twice should be harmless");
    REQUIRE(conn->postRecv(1, dest1.data(), sizes[1] + 1), "cannot post slot 1");
    REQUIRE(bs->send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    for (int k = 0; k < 4; ++k) {
      size_t bytes = 0;
      if (k == 3) {  // wait until slot 3 is in, then post it: too late
        REQUIRE(bs->send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        REQUIRE(conn->postRecv(0, dest3.data(), sizes[3]), "cannot post slot 3");
      }
      auto* got = static_cast<const char*>(pollFor(10, [&] { return conn->tryRecvSlot(&bytes); }));
      REQUIRE(got && bytes == sizes[k], "slot " + std::to_string(k) + " missing or wrong size");
      REQUIRE((got == dest0.data()) == (k == 0),
              "slot " + std::to_string(k) + " landed in the wrong place");
      REQUIRE(got != dest1.data() && got != dest3.data(), "a staged slot landed in place");
      REQUIRE(memcmp(got, pattern(sizes[k], k).data(), sizes[k]) == 0,
              "slot " + std::to_string(k) + " corrupt");
      conn->releaseRecv();
    }
    for (char c : dest1) REQUIRE(c == 0, "a slot posted for another size wrote its buffer");
    for (char c : dest3) REQUIRE(c == 0, "a slot posted too late wrote its buffer");
    REQUIRE(conn->checkPeer() == ncclSuccess, "healthy hop reported " + lastThreadError());
    conn->abandon();  // nothing pending: harmless
    REQUIRE(conn->checkPeer() == ncclSuccess, "abandon() without pending work failed the hop");
    REQUIRE(bs->send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
  }
  conn.reset();
  return 0;
}

// The receiver abandons a posted slot before it arrives: the hop fails and the caller's
// buffer is never written.
int abandonBody(int rank, int nranks, const ncclUniqueId& id, int fd) {
  auto report = [fd](const std::string& s) { (void)!write(fd, s.data(), s.size()); };
  std::unique_ptr<Bootstrap> bs;
  REQUIRE(Bootstrap::create(id, rank, nranks, 30, &bs) == ncclSuccess, lastThreadError());
  const NetConnectionSpec spec = testSpec(0x601);
  std::unique_ptr<Connection> conn;
  char signal = 0;
  if (rank == 0) {
    REQUIRE(netConnectSend(*bs, 1, spec, &conn) == ncclSuccess, lastThreadError());
    REQUIRE(netAwaitReceiver(*conn) == ncclSuccess, lastThreadError());
    REQUIRE(bs->recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    std::vector<char> data = pattern(kSlotBytes, 9);
    REQUIRE(conn->trySendSlot(), "no credit");
    conn->commitSendFrom(data.data(), kSlotBytes);
    REQUIRE(pollFor(10, [&] { return !conn->sendsInFlight(); }), "caller memory never handed over");
    REQUIRE(bs->recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
  } else {
    REQUIRE(netConnectRecv(*bs, 0, spec, &conn) == ncclSuccess, lastThreadError());
    std::vector<char> dest(kSlotBytes, 0);
    REQUIRE(conn->postRecv(0, dest.data(), kSlotBytes), "cannot post slot 0");
    conn->abandon();
    REQUIRE(conn->checkPeer() == ncclRemoteError, "abandoning a posted slot should fail the hop");
    REQUIRE(!conn->postRecv(0, dest.data(), kSlotBytes), "posted after abandon()");
    REQUIRE(bs->send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (char c : dest) REQUIRE(c == 0, "an abandoned slot wrote the caller's buffer");
    REQUIRE(bs->send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
  }
  conn.reset();
  return 0;
}

void runPair(int (*body)(int, int, const ncclUniqueId&, int)) {
  setenv("NCCL_SOCKET_IFNAME", "lo", 1);
  auto outcomes = test::runForkedRanks(2, body, {}, 60);
  ASSERT_EQ(outcomes.size(), 2u);
  for (size_t r = 0; r < outcomes.size(); ++r)
    EXPECT_EQ(outcomes[r].exitCode, 0) << "rank " << r << ": " << outcomes[r].report;
}

TEST(NetZeroCopy, LandsInPlaceOnlyWhenPostedInTimeForTheSize) {
  runPair(zeroCopyBody);
}

TEST(NetZeroCopy, AbandonKeepsTheCallersBufferUntouched) {
  runPair(abandonBody);
}

}  // namespace
}  // namespace tccl
