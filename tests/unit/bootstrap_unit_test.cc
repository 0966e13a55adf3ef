// The bootstrap's own guarantees, with ranks as threads of this process: messages that every
// rank sends before it receives any, a flood on a rank's listener, connects that honour their
// deadline, and the wire reader's checks.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "base/bootstrap.h"
#include "base/error.h"
#include "base/socket.h"

using namespace tccl;

namespace {

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Runs body(rank, bootstrap) on n threads that share one fresh job; false if any failed.
template <typename Body>
bool runThreads(int n, double timeoutSec, Body body) {
  ncclUniqueId id;
  if (createUniqueId(&id, timeoutSec, /*honourCommIdEnv=*/false) != ncclSuccess) return false;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      std::unique_ptr<Bootstrap> bs;
      if (Bootstrap::create(id, r, n, timeoutSec, &bs) != ncclSuccess || !body(r, *bs)) {
        ADD_FAILURE() << "rank " << r << ": " << lastThreadError();
        ++failures;
      }
    });
  for (auto& t : threads) t.join();
  return failures == 0;
}

}  // namespace

// Every rank sends 3000 messages (one connection each) to the next before it receives any:
// far more than a listen backlog holds. Ranks that only accepted while receiving deadlocked
// here (1024 channels in a database did it at init).
TEST(Bootstrap, ThousandsOfMessagesSentBeforeAnyIsReceived) {
  constexpr int kMessages = 3000;
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(runThreads(3, 60, [](int rank, Bootstrap& bs) {
    const int next = (rank + 1) % 3, prev = (rank + 2) % 3;
    for (int i = 0; i < kMessages; ++i) {
      const int value = rank * 100000 + i;
      if (bs.send(next, 0x100 + static_cast<uint32_t>(i), &value, sizeof(value)) != ncclSuccess)
        return false;
    }
    for (int i = kMessages - 1; i >= 0; --i) {  // and taken in another order than sent
      int value = -1;
      if (bs.recv(prev, 0x100 + static_cast<uint32_t>(i), &value, sizeof(value)) != ncclSuccess)
        return false;
      if (value != prev * 100000 + i) {
        ADD_FAILURE() << "message " << i << " from rank " << prev << " carries " << value;
        return false;
      }
    }
    return bs.barrier() == ncclSuccess;
  }));
  RecordProperty("seconds", std::to_string(secondsSince(start)));
}

// The same tag twice from one peer: the messages arrive in the order they were sent.
TEST(Bootstrap, SameTagMessagesKeepTheirOrder) {
  EXPECT_TRUE(runThreads(2, 30, [](int rank, Bootstrap& bs) {
    for (int i = 0; i < 200; ++i) {
      int v = i;
      if (rank == 0 && bs.send(1, 7, &v, sizeof(v)) != ncclSuccess) return false;
      if (rank == 1 && (bs.recv(0, 7, &v, sizeof(v)) != ncclSuccess || v != i)) return false;
    }
    return true;
  }));
}

// 200 idle connections and a slowloris on rank 1's listener while rank 0 sends to it.
TEST(Bootstrap, FloodOnARankListenerDoesNotBlockItsMessages) {
  std::atomic<bool> flooded{false};
  std::vector<int> held;
  EXPECT_TRUE(runThreads(2, 20, [&](int rank, Bootstrap& bs) {
    if (rank == 1) {
      const SocketAddress& me = bs.listenAddress();
      for (int i = 0; i < 200; ++i) {
        int fd = socket(me.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fd, reinterpret_cast<const sockaddr*>(&me.storage), me.length());
        held.push_back(fd);
      }
      (void)!send(held.back(), "\x08\xb0", 2, MSG_NOSIGNAL);  // the start of a header, no more
      flooded = true;
    }
    if (bs.barrier() != ncclSuccess) return false;
    for (int i = 0; i < 5; ++i) {
      int v = i;
      if (rank == 0 && bs.send(1, 9, &v, sizeof(v)) != ncclSuccess) return false;
      if (rank == 1 && (bs.recv(0, 9, &v, sizeof(v)) != ncclSuccess || v != i)) return false;
    }
    return true;
  }));
  EXPECT_TRUE(flooded);
  for (int fd : held) close(fd);
}

// A listener that never accepts, its backlog full: the kernel drops further SYNs, and a
// blocking connect() waited for minutes whatever the deadline.
TEST(Socket, ConnectHonoursItsDeadlineWhenTheBacklogIsFull) {
  SocketAddress addr;
  ASSERT_EQ(parseSocketAddress("127.0.0.1:1", &addr), ncclSuccess);
  addr.setPort(0);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr.storage), addr.length()), 0);
  ASSERT_EQ(listen(lfd, 0), 0);
  socklen_t len = sizeof(addr.storage);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr.storage), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 8; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length());
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto result = std::make_shared<std::atomic<int>>(-1);
  auto start = std::chrono::steady_clock::now();
  // On a thread: if connect ignored the deadline, the test fails at the watchdog instead of
  // hanging for minutes.
  std::thread([result, addr] {
    Fd fd;
    result->store(connectTo(addr, deadlineAfter(1.0), &fd));
  }).detach();
  while (result->load() < 0 && secondsSince(start) < 15)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double took = secondsSince(start);
  ASSERT_GE(result->load(), 0) << "connectTo with a 1 s deadline still blocks after 15 s";
  EXPECT_EQ(result->load(), ncclSystemError);
  EXPECT_LT(took, 5.0);
  for (int fd : fillers) close(fd);
  close(lfd);
}

TEST(BootstrapWire, ReaderChecksBeforeItAllocates) {
  BootstrapHeader h;
  h.type = BootstrapMsg::kP2p;
  h.bytes = 3;
  auto accept = [](const BootstrapHeader& hh) -> const char* {
    return hh.type == BootstrapMsg::kP2p ? nullptr : "not p2p";
  };
  // Byte by byte, then the payload: done.
  MessageReader r(accept);
  for (size_t i = 0; i < sizeof(h); ++i)
    EXPECT_EQ(r.consume(reinterpret_cast<char*>(&h) + i, 1), 1u);
  EXPECT_TRUE(r.headerDone());
  EXPECT_EQ(r.wanted(), 3u);
  EXPECT_EQ(r.consume("abcdef", 6), 3u);  // takes only what the message needs
  EXPECT_TRUE(r.done());
  EXPECT_EQ(std::string(r.payload().begin(), r.payload().end()), "abc");
  // A huge claimed size is rejected before anything is reserved.
  h.bytes = kMaxBootstrapPayload + 1;
  MessageReader big(accept);
  big.consume(reinterpret_cast<char*>(&h), sizeof(h));
  ASSERT_NE(big.rejected(), nullptr);
  EXPECT_EQ(big.wanted(), 0u);
  EXPECT_EQ(big.payload().capacity(), 0u);
  // Bad magic, and what the check says.
  h.bytes = 0;
  h.magic = 0x12345678;
  MessageReader magic(accept);
  magic.consume(reinterpret_cast<char*>(&h), sizeof(h));
  EXPECT_STREQ(magic.rejected(), "bad magic");
  h.magic = kBootstrapMagic;
  h.type = BootstrapMsg::kHello;
  MessageReader hello(accept);
  hello.consume(reinterpret_cast<char*>(&h), sizeof(h));
  EXPECT_STREQ(hello.rejected(), "not p2p");
}
