// The plugin net hop between two forked processes, through the in-tree TCP test plugin:
// data integrity for sizes that are not multiples of the slot, with more slots in flight than
// the plugin takes requests, through every ABI version; registrations balanced at destroy;
// the flush protocol of GPU-direct receives (exercised on host memory: the test plugin
// accepts NCCL_PTR_CUDA registrations when asked to and touches them with the CPU); a peer
// killed mid-transfer; setup timeouts, abort and bad specs.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/bootstrap.h"
#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "common/forked_ranks.h"
#include "net_plugin_test_util.h"
#include "transport/net_plugin/net_plugin_loader.h"
#include "transport/net_plugin/plugin_net_connection.h"

namespace tccl {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kSlot = 4096;
constexpr uint32_t kHandleTag = bootstrap_tags::kTests.first;  // + the sender's rank
constexpr uint32_t kSignalTag = bootstrap_tags::kTests.first + 0x100;
// Stands for TCCL_TIMEOUT: a dead peer must be reported well before it.
constexpr double kTimeoutSec = 10;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

uint8_t patternByte(uint32_t transfer, size_t offset) {
  uint64_t x = (transfer + 1) * 0x9E3779B97F4A7C15ull ^ (offset + 7) * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 31;
  return static_cast<uint8_t>(x ^ (x >> 17));
}

// Polls `f` the way the executor does: until it yields, the hop reports a failure, or `sec`.
template <typename F>
auto pollHop(Connection& conn, double sec, F f, ncclResult_t* failure) -> decltype(f()) {
  const auto start = Clock::now();
  *failure = ncclSuccess;
  while (true) {
    if (auto p = f()) return p;
    if ((*failure = conn.checkPeer()) != ncclSuccess || since(start) > sec) return nullptr;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

struct Rank {
  int rank = 0;
  int fd = -1;
  std::unique_ptr<Bootstrap> bs;
  std::shared_ptr<NetPlugin> net;
  std::string failure;

  void say(const std::string& line) { test::report(fd, line); }
  bool require(bool ok, const std::string& what) {
    if (!ok && failure.empty()) failure = what;
    return ok;
  }
};

// Bootstrap and plugin for one forked rank; false (with the reason) when either fails.
bool startRank(int rank, int nranks, const ncclUniqueId& id, int fd, Rank* r) {
  r->rank = rank;
  r->fd = fd;
  if (Bootstrap::create(id, rank, nranks, 30, &r->bs) != ncclSuccess)
    return r->require(false, "bootstrap: " + lastThreadError());
  NetworkChoice choice;
  if (chooseNetwork(readNetPluginEnv(), &choice) != ncclSuccess || !choice.plugin)
    return r->require(false, "no plugin: " + lastThreadError());
  r->net = choice.plugin;
  return true;
}

int finish(Rank& r) {
  if (r.failure.empty()) return 0;
  r.say("rank " + std::to_string(r.rank) + ": " + r.failure);
  return 1;
}

PluginNetConnectionSpec smallSpec(int self, int peer) {
  PluginNetConnectionSpec spec;
  spec.slotBytes = kSlot;
  spec.nSlots = 8;  // the test plugin takes 2 requests per comm
  spec.self = self;
  spec.peer = peer;
  spec.tag = 0x2a;
  spec.setupTimeoutSec = 20;
  spec.closeTimeoutSec = 20;
  return spec;
}

// The hop sender -> receiver: the receiver listens and hands its handle over the bootstrap.
ncclResult_t connectHop(Rank& r, int sender, int receiver, const PluginNetConnectionSpec& spec,
                        std::unique_ptr<Connection>* out) {
  NetHandle handle;
  const uint32_t tag = kHandleTag + static_cast<uint32_t>(sender);
  if (r.rank == receiver) {
    TCCL_CHECK(pluginNetListen(r.net, 0, spec, &handle, out));
    return r.bs->send(sender, tag, &handle, sizeof(handle));
  }
  TCCL_CHECK(pluginNetPrepareSend(r.net, 0, spec, out));
  TCCL_CHECK(r.bs->recv(receiver, tag, &handle, sizeof(handle)));
  return pluginNetConnect(**out, handle);
}

// connectHop for the hop rank 0 -> rank 1, failures recorded in `r`.
bool openHop(Rank& r, const PluginNetConnectionSpec& spec, std::unique_ptr<Connection>* conn) {
  return r.require(connectHop(r, 0, 1, spec, conn) == ncclSuccess, "setup: " + lastThreadError());
}

// Transfers cut into slots, the last one partial; plus an empty slot.
const size_t kTransfers[] = {1, 4095, 4096, 4097, 3 * 4096 + 5, 100007, 0};
constexpr int kRounds = 3;

size_t slotsOf(size_t bytes) {
  return bytes == 0 ? 1 : (bytes + kSlot - 1) / kSlot;
}

size_t totalSlots() {
  size_t n = 0;
  for (size_t t : kTransfers) n += slotsOf(t);
  return n * kRounds;
}

size_t nonEmptySlots() {
  size_t n = 0;
  for (size_t t : kTransfers) n += t == 0 ? 0 : slotsOf(t);
  return n * kRounds;
}

// Calls visit(transfer, offset, bytes) for every slot of kTransfers, kRounds times; stops at
// the first false.
template <typename Visit>
bool forEachSlot(Visit visit) {
  uint32_t id = 0;
  for (int round = 0; round < kRounds; ++round)
    for (size_t bytes : kTransfers) {
      for (size_t off = 0; off == 0 || off < bytes; off += kSlot) {
        if (!visit(id, off, std::min(kSlot, bytes - off))) return false;
        if (bytes == 0) break;
      }
      ++id;
    }
  return true;
}

bool sendAll(Rank& r, Connection& conn) {
  return forEachSlot([&](uint32_t id, size_t off, size_t piece) {
    ncclResult_t failure;
    auto* slot = static_cast<uint8_t*>(pollHop(
        conn, 20, [&] { return conn.trySendSlot(); }, &failure));
    if (!r.require(slot != nullptr,
                   "no send slot: " + std::string(resultName(failure)) + " " + lastThreadError()))
      return false;
    for (size_t i = 0; i < piece; ++i) slot[i] = patternByte(id, off + i);
    conn.commitSend(piece);
    return true;
  });
}

bool receiveAll(Rank& r, Connection& conn) {
  return forEachSlot([&](uint32_t id, size_t off, size_t piece) {
    size_t got = 0;
    ncclResult_t failure;
    auto* slot = static_cast<const uint8_t*>(pollHop(
        conn, 20, [&] { return conn.tryRecvSlot(&got); }, &failure));
    if (!r.require(slot != nullptr, "nothing arrived: " + std::string(resultName(failure)) + " " +
                                        lastThreadError()))
      return false;
    if (!r.require(got == piece, "transfer " + std::to_string(id) + " offset " +
                                     std::to_string(off) + ": " + std::to_string(got) +
                                     " bytes, expected " + std::to_string(piece)))
      return false;
    for (size_t i = 0; i < piece; ++i)
      if (!r.require(
              slot[i] == patternByte(id, off + i),
              "corrupt byte " + std::to_string(off + i) + " of transfer " + std::to_string(id)))
        return false;
    conn.releaseRecv();
    return true;
  });
}

// After the connection is gone: one registration made and undone, no comm left open.
void checkBalanced(Rank& r, bool sender) {
  auto stats = test::testNetStats(r.net->library());
  if (!r.require(stats.has_value(), "no stats from " + r.net->library())) return;
  r.require(stats->registrations == 1 && stats->liveRegistrations == 0,
            "registrations " + std::to_string(stats->registrations) + ", still live " +
                std::to_string(stats->liveRegistrations));
  r.require(stats->liveComms == 0, std::to_string(stats->liveComms) + " comms left open");
  r.require(stats->maxInflight <= 2,
            "the plugin held " + std::to_string(stats->maxInflight) + " requests at once");
  if (sender)
    r.require(
        stats->isends == static_cast<int64_t>(totalSlots()),
        std::to_string(stats->isends) + " isends for " + std::to_string(totalSlots()) + " slots");
  else
    r.require(stats->refusedRequests > 0,
              "8 free slots never met the plugin's limit of 2 requests");
  r.say("rank " + std::to_string(r.rank) + ": registrations " +
        std::to_string(stats->registrations) + ", deregistrations " +
        std::to_string(stats->deregistrations) + ", refused " +
        std::to_string(stats->refusedRequests));
}

void expectAllPassed(const std::vector<test::RankOutcome>& outcomes) {
  ASSERT_EQ(outcomes.size(), 2u);
  for (size_t r = 0; r < outcomes.size(); ++r)
    EXPECT_EQ(outcomes[r].exitCode, 0) << "rank " << r << ": " << outcomes[r].report;
}

std::function<void(int)> environment(const test::EnvList& env) {
  return [env](int) {
    setenv("NCCL_SOCKET_IFNAME", "lo", 1);
    for (const auto& [name, value] : env)
      value ? setenv(name.c_str(), value->c_str(), 1) : unsetenv(name.c_str());
  };
}

class PluginNetConnectionAbi : public ::testing::TestWithParam<const char*> {};

TEST_P(PluginNetConnectionAbi, DataArrivesIntactAndRegistrationsBalance) {
  auto outcomes = test::runForkedRanks(
      2,
      [](int rank, int nranks, const ncclUniqueId& id, int fd) {
        Rank r;
        if (!startRank(rank, nranks, id, fd, &r)) return finish(r);
        std::unique_ptr<Connection> conn;
        if (!openHop(r, smallSpec(rank, 1 - rank), &conn)) return finish(r);
        r.say(conn->describe());
        rank == 0 ? sendAll(r, *conn) : receiveAll(r, *conn);
        // The sender goes at once: its destructor must still deliver the last slots.
        conn.reset();
        checkBalanced(r, rank == 0);
        return finish(r);
      },
      environment({{"NCCL_NET_PLUGIN", GetParam()}, {"TCCL_TESTNET_MAX_REQUESTS", "2"}}), 60);
  expectAllPassed(outcomes);
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, PluginNetConnectionAbi,
                         ::testing::Values("tcptest", "tcptest-v9", "tcptest-v8", "tcptest-v7",
                                           "tcptest-v6"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(PluginNetConnection, BothDirectionsAtOnce) {
  auto outcomes = test::runForkedRanks(
      2,
      [](int rank, int nranks, const ncclUniqueId& id, int fd) {
        Rank r;
        if (!startRank(rank, nranks, id, fd, &r)) return finish(r);
        const int peer = 1 - rank;
        std::unique_ptr<Connection> out, in;
        // The three phases of a ring's setup: prepare the outgoing hop, listen for the
        // incoming one, connect the outgoing one; the accepts complete on helper threads.
        NetHandle mine, theirs;
        PluginNetConnectionSpec spec = smallSpec(rank, peer);
        if (!r.require(pluginNetPrepareSend(r.net, 0, spec, &out) == ncclSuccess &&
                           pluginNetListen(r.net, 0, spec, &mine, &in) == ncclSuccess &&
                           r.bs->send(peer, kHandleTag, &mine, sizeof(mine)) == ncclSuccess &&
                           r.bs->recv(peer, kHandleTag, &theirs, sizeof(theirs)) == ncclSuccess &&
                           pluginNetConnect(*out, theirs) == ncclSuccess,
                       "setup: " + lastThreadError()))
          return finish(r);
        // One thread, both directions interleaved, as the executor's lanes run.
        const size_t n = 200;
        size_t sent = 0, received = 0;
        const auto start = Clock::now();
        while ((sent < n || received < n) && since(start) < 30) {
          if (sent < n)
            if (auto* slot = static_cast<uint32_t*>(out->trySendSlot())) {
              slot[0] = static_cast<uint32_t>(sent * 2 + rank);
              out->commitSend(sizeof(uint32_t) + sent % 100);
              ++sent;
            }
          size_t bytes = 0;
          if (received < n)
            if (auto* slot = static_cast<const uint32_t*>(in->tryRecvSlot(&bytes))) {
              if (!r.require(
                      slot[0] == received * 2 + peer && bytes == sizeof(uint32_t) + received % 100,
                      "slot " + std::to_string(received) + " is wrong"))
                break;
              in->releaseRecv();
              ++received;
            }
          if (in->checkPeer() != ncclSuccess || out->checkPeer() != ncclSuccess) {
            r.require(false, "hop failed: " + lastThreadError());
            break;
          }
        }
        r.require(sent == n && received == n, "stalled at " + std::to_string(sent) + " sent, " +
                                                  std::to_string(received) + " received");
        r.bs->barrier();  // both have everything before either closes
        return finish(r);
      },
      environment({{"NCCL_NET_PLUGIN", "tcptest"}}), 60);
  expectAllPassed(outcomes);
}

// Zero-copy through the plugin (NCCL_LOCAL_REGISTER): sends whose bytes lie in a caller region
// go out from there, the region registered once however many slots it feeds; memory outside
// every region is refused, so the executor stages it; a region removed (ncclMemFree,
// ncclCommDeregister) is deregistered at the helper's next pass, before the hop is destroyed.
TEST(PluginNetConnection, SendsFromRegisteredCallerMemory) {
  constexpr size_t kSlots = 24, kStaged = 4;
  auto outcomes = test::runForkedRanks(
      2,
      [](int rank, int nranks, const ncclUniqueId& id, int fd) {
        Rank r;
        if (!startRank(rank, nranks, id, fd, &r)) return finish(r);
        CallerMemory regions;
        PluginNetConnectionSpec spec = smallSpec(rank, 1 - rank);
        spec.callerMemory = &regions;
        std::unique_ptr<Connection> conn;
        if (!openHop(r, spec, &conn)) return finish(r);
        if (rank == 1) {
          for (uint32_t i = 0; i < kSlots + kStaged; ++i) {
            size_t got = 0;
            ncclResult_t failure;
            auto* slot = static_cast<const uint8_t*>(pollHop(
                *conn, 20, [&] { return conn->tryRecvSlot(&got); }, &failure));
            if (!r.require(slot && got == kSlot, "slot " + std::to_string(i) + ": " +
                                                     resultName(failure) + " " + lastThreadError()))
              return finish(r);
            for (size_t b = 0; b < kSlot; ++b)
              if (!r.require(slot[b] == patternByte(i, b),
                             "slot " + std::to_string(i) + " byte " + std::to_string(b)))
                return finish(r);
            conn->releaseRecv();
          }
          r.bs->barrier();
          return finish(r);
        }
        std::vector<uint8_t> region(kSlots * kSlot), outside(kSlot);
        for (uint32_t i = 0; i < kSlots; ++i)
          for (size_t b = 0; b < kSlot; ++b) region[i * kSlot + b] = patternByte(i, b);
        const uint64_t regionId = regions.add(region.data(), region.size());
        r.require(conn->sendsFromCaller(), "a host hop with caller memory refuses zero-copy");
        r.require(!conn->canSendFrom(outside.data(), kSlot), "unregistered memory accepted");
        r.require(!conn->canSendFrom(region.data() + region.size() - 8, 16),
                  "a span past the region's end accepted");
        for (uint32_t i = 0; i < kSlots + kStaged && r.failure.empty(); ++i) {
          ncclResult_t failure;
          auto* slot = static_cast<uint8_t*>(pollHop(
              *conn, 20, [&] { return conn->trySendSlot(); }, &failure));
          if (!r.require(slot != nullptr, "no send slot: " + std::string(resultName(failure))))
            break;
          if (i < kSlots) {
            const uint8_t* src = region.data() + i * kSlot;
            if (!r.require(conn->canSendFrom(src, kSlot),
                           "slot " + std::to_string(i) + " of the region refused"))
              break;
            conn->commitSendFrom(src, kSlot);
          } else {
            for (size_t b = 0; b < kSlot; ++b) slot[b] = patternByte(i, b);
            conn->commitSend(kSlot);
          }
        }
        const auto start = Clock::now();
        while (conn->sendsInFlight() && conn->checkPeer() == ncclSuccess && since(start) < 20)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        r.require(!conn->sendsInFlight(), "sends from the region never completed");
        auto stats = test::testNetStats(r.net->library());
        if (!r.require(stats.has_value(), "no stats")) return finish(r);
        r.require(stats->registrations == 2 && stats->liveRegistrations == 2,
                  "after " + std::to_string(kSlots) +
                      " sends from one region: " + std::to_string(stats->registrations) +
                      " registrations, " + std::to_string(stats->liveRegistrations) +
                      " live (expected the slots' "
                      "and the region's)");
        regions.remove(regionId);
        const auto removed = Clock::now();
        while (since(removed) < 20 && (stats = test::testNetStats(r.net->library())) &&
               stats->liveRegistrations != 1)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        r.require(stats && stats->liveRegistrations == 1, "the removed region is still registered");
        r.bs->barrier();
        conn.reset();
        stats = test::testNetStats(r.net->library());
        r.require(stats && stats->liveRegistrations == 0 && stats->liveComms == 0,
                  "registrations or comms left after destroy");
        r.say("rank 0: registrations " + std::to_string(stats->registrations) + ", isends " +
              std::to_string(stats->isends));
        return finish(r);
      },
      environment({{"NCCL_NET_PLUGIN", "tcptest"}}), 60);
  expectAllPassed(outcomes);
}

TEST(PluginNetConnection, GpuDirectReceivesAreFlushed) {
  auto outcomes = test::runForkedRanks(
      2,
      [](int rank, int nranks, const ncclUniqueId& id, int fd) {
        Rank r;
        if (!startRank(rank, nranks, id, fd, &r)) return finish(r);
        PluginNetConnectionSpec spec = smallSpec(rank, 1 - rank);
        const size_t bytes = spec.slotBytes * static_cast<size_t>(spec.nSlots);
        // Host memory standing in for device memory: what the plugin is told is NCCL_PTR_CUDA.
        spec.deviceSlots = PluginSlotMemory{std::shared_ptr<void>(aligned_alloc(4096, bytes), free),
                                            netabi::kPtrCuda, -1, 0};
        std::unique_ptr<Connection> conn;
        if (!openHop(r, spec, &conn)) return finish(r);
        r.require(conn->describe().find("GPU-direct") != std::string::npos, conn->describe());
        rank == 0 ? sendAll(r, *conn) : receiveAll(r, *conn);
        conn.reset();
        auto stats = test::testNetStats(r.net->library());
        if (!r.require(stats.has_value(), "no stats")) return finish(r);
        r.require(stats->cudaRegistrations == 1 && stats->liveRegistrations == 0,
                  "NCCL_PTR_CUDA registrations: " + std::to_string(stats->cudaRegistrations));
        const int64_t flushes = rank == 1 ? static_cast<int64_t>(nonEmptySlots()) : 0;
        r.require(stats->flushes == flushes,
                  std::to_string(stats->flushes) + " flushes, expected " + std::to_string(flushes));
        return finish(r);
      },
      environment({{"NCCL_NET_PLUGIN", "tcptest"}, {"TCCL_TESTNET_PTR_SUPPORT", "cuda"}}), 60);
  expectAllPassed(outcomes);
}

// Device steps that finish only when the test says so: commits and releases must reach the
// plugin only after the steps issued before them.
class GatedSteps final : public AsyncSteps {
 public:
  ncclResult_t adopt(void* base, size_t bytes, void** stepBase) override {
    adoptedBytes = bytes;
    *stepBase = base;
    return ncclSuccess;
  }
  ncclResult_t afterIssuedSteps(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    gated_.push_back(std::move(fn));
    return ncclSuccess;
  }
  void drain() override { finishSteps(); }
  ncclResult_t check() override {
    return faulty ? setError(ncclUnhandledCudaError, "device fault (test)") : ncclSuccess;
  }
  size_t waiting() {
    std::lock_guard<std::mutex> lock(mutex_);
    return gated_.size();
  }
  void finishSteps() {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      due.swap(gated_);
    }
    for (auto& fn : due) fn();
  }

  size_t adoptedBytes = 0;
  bool faulty = false;

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> gated_;
};

TEST(PluginNetConnection, DeviceStagedHopsWaitForTheSteps) {
  auto outcomes = test::runForkedRanks(
      2,
      [](int rank, int nranks, const ncclUniqueId& id, int fd) {
        Rank r;
        if (!startRank(rank, nranks, id, fd, &r)) return finish(r);
        auto steps = std::make_shared<GatedSteps>();
        PluginNetConnectionSpec spec = smallSpec(rank, 1 - rank);
        spec.nSlots = 1;
        spec.asyncSteps = steps;
        std::unique_ptr<Connection> conn;
        if (!openHop(r, spec, &conn)) return finish(r);
        r.require(steps->adoptedBytes == kSlot, "the staging buffer was not adopted");
        r.require(conn->copyEngine(), "a device-staged hop should ask for copy engines");
        char signal = 0;
        ncclResult_t failure;
        size_t bytes = 0;
        auto poll = [&](double sec) {
          return pollHop(
              *conn, sec, [&] { return conn->tryRecvSlot(&bytes); }, &failure);
        };
        if (rank == 0) {
          auto* slot = static_cast<char*>(conn->trySendSlot());
          if (!r.require(slot != nullptr, "no first slot")) return finish(r);
          slot[0] = 'a';
          conn->commitSend(1);
          r.require(steps->waiting() == 1, "the commit did not wait for the device steps");
          r.bs->recv(1, kSignalTag, &signal, 1);  // the receiver saw nothing meanwhile
          steps->finishSteps();
          slot = static_cast<char*>(pollHop(
              *conn, 10, [&] { return conn->trySendSlot(); }, &failure));
          if (!r.require(slot != nullptr, "the first send never completed")) return finish(r);
          slot[0] = 'b';
          conn->commitSend(1);
          steps->finishSteps();
          r.bs->recv(1, kSignalTag, &signal, 1);
        } else {
          r.require(poll(0.3) == nullptr, "a slot arrived before its commit was published");
          r.bs->send(0, kSignalTag, &signal, 1);
          auto* data = static_cast<const char*>(poll(10));
          if (!r.require(data && bytes == 1 && data[0] == 'a', "first slot wrong or missing"))
            return finish(r);
          conn->releaseRecv();
          r.require(steps->waiting() == 1, "the release did not wait for the device steps");
          // One slot: the second message cannot land before the release is published.
          r.require(poll(0.3) == nullptr, "a slot arrived into a slot not yet released");
          steps->finishSteps();
          data = static_cast<const char*>(poll(10));
          r.require(data && bytes == 1 && data[0] == 'b', "second slot wrong or missing");
          conn->releaseRecv();
          r.require(conn->checkPeer() == ncclSuccess, "healthy hop: " + lastThreadError());
          steps->faulty = true;
          r.require(conn->checkPeer() == ncclUnhandledCudaError, "device fault not reported");
          steps->faulty = false;
          r.bs->send(0, kSignalTag, &signal, 1);
        }
        conn.reset();
        return finish(r);
      },
      environment({{"NCCL_NET_PLUGIN", "tcptest"}}), 60);
  expectAllPassed(outcomes);
}

// `victim` streams (or drains) a few slots, then dies by SIGKILL; the survivor must see
// ncclRemoteError from checkPeer well within kTimeoutSec.
void killMidTransfer(int victim) {
  auto outcomes = test::runForkedRanks(
      2,
      [victim](int rank, int nranks, const ncclUniqueId& id, int fd) {
        Rank r;
        if (!startRank(rank, nranks, id, fd, &r)) return finish(r);
        std::unique_ptr<Connection> conn;
        if (!openHop(r, smallSpec(rank, 1 - rank), &conn)) return finish(r);
        constexpr int kBeforeDeath = 5;
        char signal = 0;
        if (rank == victim) {
          for (int i = 0; i < kBeforeDeath; ++i) {
            ncclResult_t failure;
            size_t bytes = 0;
            bool ok = rank == 0
                          ? pollHop(
                                *conn, 20, [&] { return conn->trySendSlot(); }, &failure) != nullptr
                          : pollHop(
                                *conn, 20, [&] { return conn->tryRecvSlot(&bytes); }, &failure) !=
                                nullptr;
            if (!r.require(ok, "no slot before dying")) return finish(r);
            rank == 0 ? conn->commitSend(kSlot) : conn->releaseRecv();
          }
          r.bs->send(1 - rank, kSignalTag, &signal, 1);
          kill(getpid(), SIGKILL);
        }
        // The survivor keeps the transfer going, as the executor would, until the hop fails.
        Clock::time_point died{};
        bool knowsDeath = false;
        int moved = 0;  // slots committed (sender) or consumed (receiver)
        ncclResult_t res = ncclSuccess;
        const auto start = Clock::now();
        while (since(start) < 60) {
          size_t bytes = 0;
          if (rank == 0) {
            if (void* slot = conn->trySendSlot()) {
              memset(slot, 1, kSlot);
              conn->commitSend(kSlot);
              ++moved;
            }
          } else if (conn->tryRecvSlot(&bytes)) {
            conn->releaseRecv();
            ++moved;
          }
          // A surviving sender must first give the victim its slots; a surviving receiver
          // hears of the death at once (slots committed before it may be lost).
          if (!knowsDeath && moved >= (rank == 0 ? kBeforeDeath : 0)) {
            if (!r.require(r.bs->recv(victim, kSignalTag, &signal, 1) == ncclSuccess,
                           "no word from the victim"))
              return finish(r);
            died = Clock::now();
            knowsDeath = true;
          }
          if ((res = conn->checkPeer()) != ncclSuccess) break;
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        const double detected = knowsDeath ? since(died) : -1;
        const std::string error = lastThreadError();
        r.say("rank " + std::to_string(rank) + ": " + resultName(res) + " after " +
              std::to_string(detected) + " s: " + error);
        r.require(res == ncclRemoteError, std::string("checkPeer gave ") + resultName(res));
        r.require(knowsDeath && detected < kTimeoutSec,
                  "detected after " + std::to_string(detected) + " s");
        r.require(error.find("rank " + std::to_string(victim)) != std::string::npos &&
                      error.find("NET/TestTCP") != std::string::npos,
                  "the error names neither the peer nor the plugin: " + error);
        conn.reset();  // teardown after a failure returns at once and leaks nothing
        auto stats = test::testNetStats(r.net->library());
        r.require(stats && stats->liveRegistrations == 0 && stats->liveComms == 0,
                  "leaked registrations or comms after the failure");
        return finish(r);
      },
      environment({{"NCCL_NET_PLUGIN", "tcptest"}}), 90);
  ASSERT_EQ(outcomes.size(), 2u);
  printf("%s", outcomes[1 - victim].report.c_str());  // how fast the survivor knew
  EXPECT_EQ(outcomes[victim].exitCode, 128 + SIGKILL) << outcomes[victim].report;
  EXPECT_EQ(outcomes[1 - victim].exitCode, 0) << outcomes[1 - victim].report;
}

TEST(PluginNetConnection, SenderKilledMidTransferIsRemoteError) {
  killMidTransfer(0);
}

TEST(PluginNetConnection, ReceiverKilledMidTransferIsRemoteError) {
  killMidTransfer(1);
}

TEST(PluginNetConnection, AbortSkipsTheDrain) {
  auto outcomes = test::runForkedRanks(
      2,
      [](int rank, int nranks, const ncclUniqueId& id, int fd) {
        Rank r;
        if (!startRank(rank, nranks, id, fd, &r)) return finish(r);
        std::atomic<bool> abortFlag{false};
        PluginNetConnectionSpec spec = smallSpec(rank, 1 - rank);
        spec.slotBytes = 1 << 20;
        spec.closeTimeoutSec = 60;
        spec.abortFlag = &abortFlag;
        std::unique_ptr<Connection> conn;
        if (!openHop(r, spec, &conn)) return finish(r);
        char signal = 0;
        if (rank == 1) {  // never consumes: the sender's sends cannot all complete
          r.bs->recv(0, kSignalTag, &signal, 1);
          return finish(r);
        }
        // Commit until no slot comes back for a second: sends stuck in flight.
        auto lastSlot = Clock::now();
        int committed = 0;
        while (since(lastSlot) < 1 && committed < 10000) {
          if (conn->trySendSlot()) {
            conn->commitSend(spec.slotBytes);
            ++committed;
            lastSlot = Clock::now();
          }
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        abortFlag = true;
        const auto start = Clock::now();
        conn.reset();
        const double took = since(start);
        r.say("rank 0: " + std::to_string(committed) + " slots committed, teardown after abort " +
              std::to_string(took) + " s");
        r.require(committed < 10000, "the receiver absorbed everything: nothing was stuck");
        r.require(took < 5, "an aborted teardown waited " + std::to_string(took) + " s");
        r.bs->send(1, kSignalTag, &signal, 1);
        return finish(r);
      },
      environment({{"NCCL_NET_PLUGIN", "tcptest"}}), 60);
  expectAllPassed(outcomes);
}

TEST(PluginNetConnection, PeerThatNeverConnectsTimesOut) {
  test::ChildRun run = test::runInChild({{"NCCL_NET_PLUGIN", "tcptest"}}, [] {
    NetworkChoice choice;
    if (chooseNetwork(readNetPluginEnv(), &choice) != ncclSuccess || !choice.plugin)
      return std::string("no plugin");
    PluginNetConnectionSpec spec = smallSpec(1, 0);
    spec.setupTimeoutSec = 1;
    NetHandle handle;
    std::unique_ptr<Connection> conn;
    if (pluginNetListen(choice.plugin, 0, spec, &handle, &conn) != ncclSuccess)
      return "listen: " + lastThreadError();
    const auto start = Clock::now();
    ncclResult_t res = ncclSuccess;
    while (since(start) < 10 && (res = conn->checkPeer()) == ncclSuccess)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return std::string(resultName(res)) + " after " + std::to_string(since(start)) +
           " s: " + lastThreadError();
  });
  EXPECT_NE(run.report.find("ncclRemoteError"), std::string::npos) << run.report;
  EXPECT_NE(run.report.find("rank 0 did not connect within 1 s"), std::string::npos) << run.report;
}

TEST(PluginNetConnection, SpecsThePluginCannotServeAreRefused) {
  test::ChildRun run = test::runInChild(
      {{"NCCL_NET_PLUGIN", "tcptest"}, {"TCCL_TESTNET_MAX_P2P_BYTES", "1000"}}, [] {
        NetworkChoice choice;
        if (chooseNetwork(readNetPluginEnv(), &choice) != ncclSuccess || !choice.plugin)
          return std::string("no plugin");
        std::string out;
        NetHandle handle;
        std::unique_ptr<Connection> conn;
        auto attempt = [&](int dev, const PluginNetConnectionSpec& spec) {
          ncclResult_t res = pluginNetListen(choice.plugin, dev, spec, &handle, &conn);
          out += std::string(resultName(res)) + ": " + lastThreadError() + "\n";
        };
        attempt(0, smallSpec(1, 0));  // 4096-byte slots, the device takes 1000 at most
        PluginNetConnectionSpec fits = smallSpec(1, 0);
        fits.slotBytes = 1000;
        attempt(7, fits);
        fits.deviceSlots =
            PluginSlotMemory{std::shared_ptr<void>(malloc(8000), free), netabi::kPtrCuda, -1, 0};
        attempt(0, fits);  // the device only reaches host memory
        fits.deviceSlots.reset();
        attempt(0, fits);  // a receiver, fine: but it cannot be connected like a sender
        out += std::string(resultName(pluginNetConnect(*conn, handle))) + ": " + lastThreadError() +
               "\n";
        return out;
      });
  EXPECT_NE(run.report.find("ncclInvalidUsage: TCCL_CHUNK_SIZE=4096: NET/TestTCP (ABI v10) dev 0 "
                            "moves at most 1000 bytes at once"),
            std::string::npos)
      << run.report;
  EXPECT_NE(run.report.find("ncclInvalidArgument: NET/TestTCP has no device 7 (it has 1)"),
            std::string::npos)
      << run.report;
  EXPECT_NE(run.report.find("ncclInvalidUsage: NET/TestTCP dev 0 cannot reach GPU memory"),
            std::string::npos)
      << run.report;
  EXPECT_NE(run.report.find("ncclInternalError: pluginNetConnect on a connection that is not an "
                            "unconnected plugin sender"),
            std::string::npos)
      << run.report;
}

}  // namespace
}  // namespace tccl
