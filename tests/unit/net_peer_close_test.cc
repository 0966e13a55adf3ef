// The net transport when the peer closes its end: a finished peer that closes a hop with nothing
// outstanding is no failure, but a later use of the hop that needs the peer fails promptly and
// names it, and a close that cuts off committed or awaited slots fails at once. Two forked
// ranks talk over loopback sockets and coordinate through the bootstrap.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "base/bootstrap.h"
#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "common/forked_ranks.h"
#include "common/rank_checks.h"
#include "transport/net/net_connection.h"

namespace tccl {
namespace {

constexpr size_t kSlotBytes = 16 << 10;
constexpr int kSlots = 6;  // exchanged before the close: the two-slot FIFO wraps
constexpr uint32_t kSignalTag = bootstrap_tags::kTests.first + 0x79;
constexpr double kQuietSec = 1.0;  // a clean close must stay unreported this long

using test::pollFor;

NetConnectionSpec testSpec() {
  NetConnectionSpec spec;
  spec.slotBytes = kSlotBytes;
  spec.nSlots = 2;
  spec.tag = 0x700;
  spec.nThreads = 1;
  spec.nSocksPerThread = 2;  // each socket sees its own end of stream
  spec.setupTimeoutSec = 20;
  spec.closeTimeoutSec = 20;
  return spec;
}

enum class Closer { kSender, kReceiver };

using Report = std::function<void(const std::string&)>;
Report reporter(int fd) {
  return [fd](const std::string& s) { (void)!write(fd, s.data(), s.size()); };
}

// Sets up the hop (rank 0 sends to rank 1) and moves kSlots slots through it.
int exchange(int rank, Bootstrap& bs, std::unique_ptr<Connection>* conn, const Report& report) {
  const NetConnectionSpec spec = testSpec();
  if (rank == 0) {
    REQUIRE(netConnectSend(bs, 1, spec, conn) == ncclSuccess, lastThreadError());
    REQUIRE(netAwaitReceiver(**conn) == ncclSuccess, lastThreadError());
    for (int i = 0; i < kSlots; ++i) {
      auto* slot = static_cast<char*>(pollFor(10, [&] { return (*conn)->trySendSlot(); }));
      REQUIRE(slot, "no send slot " + std::to_string(i));
      memset(slot, 'a' + i, kSlotBytes);
      (*conn)->commitSend(kSlotBytes);
    }
  } else {
    REQUIRE(netConnectRecv(bs, 0, spec, conn) == ncclSuccess, lastThreadError());
    for (int i = 0; i < kSlots; ++i) {
      size_t bytes = 0;
      auto* data =
          static_cast<const char*>(pollFor(10, [&] { return (*conn)->tryRecvSlot(&bytes); }));
      REQUIRE(data && bytes == kSlotBytes, "slot " + std::to_string(i) + " never arrived");
      REQUIRE(data[0] == 'a' + i && data[kSlotBytes - 1] == 'a' + i, "corrupt slot");
      (*conn)->releaseRecv();
    }
  }
  return 0;
}

// Polls checkPeer (calling `use` before each poll) until it fails; that must be within seconds,
// with ncclRemoteError and a message that contains `named`.
int expectFailure(
    Connection& conn, const std::string& named, const Report& report,
    const std::function<void()>& use = [] {}) {
  ncclResult_t res = ncclSuccess;
  pollFor(10, [&] {
    use();
    return (res = conn.checkPeer()) != ncclSuccess;
  });
  REQUIRE(res == ncclRemoteError, "the hop did not fail (result " + std::to_string(res) + ")");
  const std::string why = lastThreadError();
  REQUIRE(why.find(named) != std::string::npos, "unclear error: " + why);
  return 0;
}

std::string closedBy(int peer) {
  return "failed: rank " + std::to_string(peer) + " closed the connection";
}

// What a rank does with the hop once kSlots slots went through it.
using Body = std::function<int(int rank, Bootstrap& bs, std::unique_ptr<Connection>& conn,
                               const Report& report)>;

// A forked rank's body: a fresh bootstrap, the hop (rank 0 sends to rank 1), then `body`.
std::function<int(int, int, const ncclUniqueId&, int)> afterExchange(Body body) {
  return [body](int rank, int nranks, const ncclUniqueId& id, int fd) {
    const Report report = reporter(fd);
    std::unique_ptr<Bootstrap> bs;
    REQUIRE(Bootstrap::create(id, rank, nranks, 30, &bs) == ncclSuccess, lastThreadError());
    std::unique_ptr<Connection> conn;
    if (int rc = exchange(rank, *bs, &conn, report)) return rc;
    return body(rank, *bs, conn, report);
  };
}

// One end exchanges every slot, is destroyed normally and says so; the other checks that its
// hop stays healthy and that using it afterwards fails.
int cleanCloseBody(Closer closer, int rank, Bootstrap& bs, std::unique_ptr<Connection>& conn,
                   const Report& report) {
  char signal = 0;
  const int closing = closer == Closer::kSender ? 0 : 1;
  if (rank == closing) {
    conn.reset();  // waits until the peer has everything
    REQUIRE(bs.send(1 - rank, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    return 0;
  }
  // The sender takes a slot while the receiver still lives, and commits it only afterwards.
  void* slot = nullptr;
  if (rank == 0) {
    slot = pollFor(10, [&] { return conn->trySendSlot(); });
    REQUIRE(slot, "no send slot after the exchange");
  }
  REQUIRE(bs.recv(closing, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
  std::function<void()> use;
  if (rank == 0)
    use = [&] {
      if (slot) conn->commitSend(100);
      slot = nullptr;
    };
  else
    use = [&] {
      size_t bytes = 0;
      (void)conn->tryRecvSlot(&bytes);
    };
  REQUIRE(!pollFor(kQuietSec, [&] { return conn->checkPeer() != ncclSuccess; }),
          "a clean close with nothing outstanding was reported: " + lastThreadError());
  if (int rc = expectFailure(*conn, closedBy(closing), report, use)) return rc;
  if (rank == 0) REQUIRE(!conn->trySendSlot(), "a send slot on a hop whose peer closed");
  return 0;
}

// The receiver closes while slots it has not released are committed: the sender fails.
int receiverClosesEarlyBody(int rank, Bootstrap& bs, std::unique_ptr<Connection>& conn,
                            const Report& report) {
  char signal = 0;
  if (rank == 0) {
    auto* slot = static_cast<char*>(pollFor(10, [&] { return conn->trySendSlot(); }));
    REQUIRE(slot, "no send slot after the exchange");
    memset(slot, 'z', 10);
    conn->commitSend(10);
    REQUIRE(bs.send(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    REQUIRE(bs.recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    if (int rc = expectFailure(*conn, closedBy(1), report)) return rc;
  } else {
    REQUIRE(bs.recv(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    size_t bytes = 0;
    REQUIRE(pollFor(10, [&] { return conn->tryRecvSlot(&bytes); }), "the last slot never came");
    conn.reset();  // without releasing it
    REQUIRE(bs.send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
  }
  return 0;
}

// The receiver posted where the next slot should land; the sender closes without sending it.
int senderClosesWhilePostedBody(int rank, Bootstrap& bs, std::unique_ptr<Connection>& conn,
                                const Report& report) {
  char signal = 0;
  if (rank == 0) {
    REQUIRE(bs.recv(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    conn.reset();
    REQUIRE(bs.send(1, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
  } else {
    std::vector<char> dest(kSlotBytes);
    REQUIRE(conn->postRecv(0, dest.data(), dest.size()), "a host net hop should accept a post");
    REQUIRE(bs.send(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    REQUIRE(bs.recv(0, kSignalTag, &signal, 1) == ncclSuccess, lastThreadError());
    // Only checkPeer: the posted slot alone makes the close a failure.
    if (int rc = expectFailure(*conn, closedBy(0), report)) return rc;
    conn->abandon();  // `dest` goes away
  }
  return 0;
}

void runTwoRanks(const Body& body) {
  setenv("NCCL_SOCKET_IFNAME", "lo", 1);
  auto outcomes = test::runForkedRanks(2, afterExchange(body), {}, 60);
  ASSERT_EQ(outcomes.size(), 2u);
  for (size_t r = 0; r < outcomes.size(); ++r)
    EXPECT_EQ(outcomes[r].exitCode, 0) << "rank " << r << ": " << outcomes[r].report;
}

TEST(NetPeerClose, SenderFinishedIsNoFailureUntilTheReceiverWaitsForMore) {
  runTwoRanks([](int rank, Bootstrap& bs, std::unique_ptr<Connection>& conn, const Report& r) {
    return cleanCloseBody(Closer::kSender, rank, bs, conn, r);
  });
}

TEST(NetPeerClose, ReceiverFinishedIsNoFailureUntilTheSenderCommitsMore) {
  runTwoRanks([](int rank, Bootstrap& bs, std::unique_ptr<Connection>& conn, const Report& r) {
    return cleanCloseBody(Closer::kReceiver, rank, bs, conn, r);
  });
}

TEST(NetPeerClose, ReceiverClosingWithUnreleasedSlotsFailsTheSender) {
  runTwoRanks(receiverClosesEarlyBody);
}

TEST(NetPeerClose, SenderClosingBeforeAPostedSlotFailsTheReceiver) {
  runTwoRanks(senderClosesWhilePostedBody);
}

}  // namespace
}  // namespace tccl
