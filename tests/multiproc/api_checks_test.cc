// Argument checks that NCCL documents, each returning ncclInvalidArgument/ncclInvalidUsage
// with a message in ncclGetLastError; bootstrap failures that must end within the timeout.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <nccl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "../common/forked_ranks.h"
#include "base/bootstrap_wire.h"

using tccl::test::runForkedRanks;

namespace {

std::string lastError(ncclComm_t comm = nullptr) {
  return ncclGetLastError(comm);
}

class TwoComms : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ncclCommInitAll(comms, 2, nullptr), ncclSuccess) << lastError();
  }
  void TearDown() override {
    for (ncclComm_t c : comms)
      if (c) ncclCommDestroy(c);
  }
  ncclComm_t comms[2] = {nullptr, nullptr};
  float buf[16] = {};
};

TEST_F(TwoComms, NullComm) {
  EXPECT_EQ(ncclAllReduce(buf, buf, 4, ncclFloat, ncclSum, nullptr, nullptr), ncclInvalidArgument);
  EXPECT_NE(lastError().find("comm is NULL"), std::string::npos) << lastError();
}

TEST_F(TwoComms, NullBufferWithCount) {
  EXPECT_EQ(ncclAllReduce(nullptr, buf, 4, ncclFloat, ncclSum, comms[0], nullptr),
            ncclInvalidArgument);
  EXPECT_NE(lastError(comms[0]).find("sendbuff is NULL"), std::string::npos) << lastError(comms[0]);
  EXPECT_EQ(ncclAllGather(buf, nullptr, 4, ncclFloat, comms[0], nullptr), ncclInvalidArgument);
  EXPECT_NE(lastError(comms[0]).find("recvbuff is NULL"), std::string::npos) << lastError(comms[0]);
  EXPECT_EQ(ncclSend(nullptr, 1, ncclFloat, 1, comms[0], nullptr), ncclInvalidArgument);
}

TEST_F(TwoComms, InvalidRootAndPeer) {
  EXPECT_EQ(ncclBroadcast(buf, buf, 4, ncclFloat, 2, comms[0], nullptr), ncclInvalidArgument);
  EXPECT_NE(lastError(comms[0]).find("root 2 is out of range"), std::string::npos)
      << lastError(comms[0]);
  EXPECT_EQ(ncclReduce(buf, buf, 4, ncclFloat, ncclSum, -1, comms[0], nullptr),
            ncclInvalidArgument);
  EXPECT_EQ(ncclSend(buf, 4, ncclFloat, 5, comms[0], nullptr), ncclInvalidArgument);
  EXPECT_NE(lastError(comms[0]).find("peer 5 is out of range"), std::string::npos)
      << lastError(comms[0]);
  EXPECT_EQ(ncclRecv(buf, 4, ncclFloat, -3, comms[0], nullptr), ncclInvalidArgument);
}

TEST_F(TwoComms, InvalidDatatypeAndOp) {
  EXPECT_EQ(ncclAllReduce(buf, buf, 4, static_cast<ncclDataType_t>(ncclNumTypes), ncclSum, comms[0],
                          nullptr),
            ncclInvalidArgument);
  EXPECT_NE(lastError(comms[0]).find("invalid datatype"), std::string::npos) << lastError(comms[0]);
  EXPECT_EQ(ncclAllReduce(buf, buf, 4, ncclFloat, static_cast<ncclRedOp_t>(ncclNumOps + 7),
                          comms[0], nullptr),
            ncclInvalidArgument);
  EXPECT_NE(lastError(comms[0]).find("invalid reduction op"), std::string::npos)
      << lastError(comms[0]);
  // A PreMulSum op belongs to its datatype.
  float scalar = 2;
  ncclRedOp_t op;
  ASSERT_EQ(ncclRedOpCreatePreMulSum(&op, &scalar, ncclFloat, ncclScalarHostImmediate, comms[0]),
            ncclSuccess);
  EXPECT_EQ(ncclAllReduce(buf, buf, 4, ncclDouble, op, comms[0], nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclRedOpDestroy(op, comms[0]), ncclSuccess);
  EXPECT_EQ(ncclRedOpDestroy(op, comms[0]), ncclInvalidArgument);
  EXPECT_EQ(ncclAllReduce(buf, buf, 4, ncclFloat, op, comms[0], nullptr), ncclInvalidArgument);
}

TEST_F(TwoComms, CountOverflow) {
  EXPECT_EQ(ncclAllReduce(buf, buf, SIZE_MAX / 2, ncclFloat, ncclSum, comms[0], nullptr),
            ncclInvalidArgument);
  EXPECT_NE(lastError(comms[0]).find("overflows"), std::string::npos) << lastError(comms[0]);
  EXPECT_EQ(ncclAllGather(buf, buf, SIZE_MAX / 4, ncclDouble, comms[0], nullptr),
            ncclInvalidArgument);
}

TEST_F(TwoComms, UseAfterDestroy) {
  ASSERT_EQ(ncclCommDestroy(comms[1]), ncclSuccess);
  ncclComm_t dead = comms[1];
  comms[1] = nullptr;
  int count = 0;
  EXPECT_EQ(ncclCommCount(dead, &count), ncclInvalidArgument);
  EXPECT_NE(lastError().find("not a live communicator"), std::string::npos) << lastError();
  EXPECT_EQ(ncclCommDestroy(dead), ncclInvalidArgument);
}

TEST_F(TwoComms, QueriesAndGroupedCollective) {
  int count = 0, rank = -1, dev = -1;
  EXPECT_EQ(ncclCommCount(comms[1], &count), ncclSuccess);
  EXPECT_EQ(ncclCommUserRank(comms[1], &rank), ncclSuccess);
  EXPECT_EQ(ncclCommCuDevice(comms[1], &dev), ncclSuccess);
  EXPECT_EQ(count, 2);
  EXPECT_EQ(rank, 1);
  EXPECT_EQ(dev, 1);
  // One thread drives both ranks: only possible inside a group (nested, to check nesting).
  std::vector<int> a(100, 1), b(100, 2), out0(100), out1(100);
  ASSERT_EQ(ncclGroupStart(), ncclSuccess);
  ASSERT_EQ(ncclGroupStart(), ncclSuccess);
  ASSERT_EQ(ncclAllReduce(a.data(), out0.data(), 100, ncclInt, ncclSum, comms[0], nullptr),
            ncclSuccess);
  ASSERT_EQ(ncclAllReduce(b.data(), out1.data(), 100, ncclInt, ncclSum, comms[1], nullptr),
            ncclSuccess);
  ASSERT_EQ(ncclGroupEnd(), ncclSuccess);
  // Collectives mixed with send/recv in the same group.
  std::vector<int> s0(10, 7), s1(10, 9), r0(10), r1(10);
  ASSERT_EQ(ncclSend(s0.data(), 10, ncclInt, 1, comms[0], nullptr), ncclSuccess);
  ASSERT_EQ(ncclRecv(r0.data(), 10, ncclInt, 1, comms[0], nullptr), ncclSuccess);
  ASSERT_EQ(ncclRecv(r1.data(), 10, ncclInt, 0, comms[1], nullptr), ncclSuccess);
  ASSERT_EQ(ncclSend(s1.data(), 10, ncclInt, 0, comms[1], nullptr), ncclSuccess);
  ASSERT_EQ(ncclGroupEnd(), ncclSuccess) << lastError();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(out0[i] == 3 && out1[i] == 3) << i;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(r0[i] == 9 && r1[i] == 7) << i;
  EXPECT_EQ(ncclGroupEnd(), ncclInvalidUsage);
}

TEST_F(TwoComms, MemAllocAndRegister) {
  void* p = nullptr;
  ASSERT_EQ(ncclMemAlloc(&p, 1 << 20), ncclSuccess);
  void* handle = nullptr;
  ASSERT_EQ(ncclCommRegister(comms[0], p, 1 << 20, &handle), ncclSuccess);
  EXPECT_EQ(ncclCommDeregister(comms[1], handle), ncclInvalidArgument);
  EXPECT_EQ(ncclCommDeregister(comms[0], handle), ncclSuccess);
  EXPECT_EQ(ncclCommDeregister(comms[0], handle), ncclInvalidArgument);
  EXPECT_EQ(ncclMemFree(p), ncclSuccess);
  int local = 0;
  EXPECT_EQ(ncclMemFree(&local), ncclInvalidArgument);
  EXPECT_NE(lastError().find("not allocated by ncclMemAlloc"), std::string::npos);
  // As in NCCL: nothing to allocate is no error.
  p = &local;
  EXPECT_EQ(ncclMemAlloc(&p, 0), ncclSuccess);
  EXPECT_EQ(p, nullptr);
}

TEST(Config, MagicAndSizeMismatch) {
  ncclUniqueId id;
  ASSERT_EQ(ncclGetUniqueId(&id), ncclSuccess);
  ncclComm_t comm = nullptr;
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.magic = 0x1234;
  EXPECT_EQ(ncclCommInitRankConfig(&comm, 1, id, 0, &config), ncclInvalidArgument);
  EXPECT_NE(lastError().find("NCCL_CONFIG_INITIALIZER"), std::string::npos) << lastError();
  config = NCCL_CONFIG_INITIALIZER;
  config.size = 12;
  EXPECT_EQ(ncclCommInitRankConfig(&comm, 1, id, 0, &config), ncclInvalidArgument);
  EXPECT_NE(lastError().find("size"), std::string::npos) << lastError();
  EXPECT_EQ(ncclCommInitRank(&comm, 2, id, 2), ncclInvalidArgument);
  EXPECT_EQ(ncclCommInitRank(&comm, 0, id, 0), ncclInvalidArgument);
  ncclUniqueId garbage;
  memset(&garbage, 0x42, sizeof(garbage));
  EXPECT_EQ(ncclCommInitRank(&comm, 1, garbage, 0), ncclInvalidArgument);
  EXPECT_NE(lastError().find("ncclUniqueId"), std::string::npos) << lastError();
}

TEST(Config, NonBlockingInitReportsInProgress) {
  auto out = runForkedRanks(2, [](int rank, int n, const ncclUniqueId& id, int) {
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    ncclComm_t comm;
    ncclResult_t res = ncclCommInitRankConfig(&comm, n, id, rank, &config);
    if (res != ncclInProgress && res != ncclSuccess) return 1;
    ncclResult_t state = ncclInProgress;
    while (state == ncclInProgress)
      if (ncclCommGetAsyncError(comm, &state) != ncclSuccess) return 2;
    if (state != ncclSuccess) return 3;
    int v = rank + 1;
    if (ncclAllReduce(&v, &v, 1, ncclInt, ncclSum, comm, nullptr) != ncclSuccess || v != 3)
      return 4;
    return ncclCommDestroy(comm) == ncclSuccess ? 0 : 5;
  });
  ASSERT_EQ(out.size(), 2u);
  for (auto& o : out) EXPECT_EQ(o.exitCode, 0) << o.report;
}

TEST(Split, ColorKeyAndNoColor) {
  auto out = runForkedRanks(4, [](int rank, int n, const ncclUniqueId& id, int fd) {
    ncclComm_t comm, sub;
    if (ncclCommInitRank(&comm, n, id, rank) != ncclSuccess) return 1;
    // Ranks 0 and 2 form one communicator ordered by descending key; rank 3 opts out.
    int color = rank == 3 ? NCCL_SPLIT_NOCOLOR : rank % 2;
    if (ncclCommSplit(comm, color, -rank, &sub, nullptr) != ncclSuccess) {
      tccl::test::report(fd, ncclGetLastError(comm));
      return 2;
    }
    if (rank == 3) return sub == nullptr ? 0 : 3;
    int subRank = -1, subCount = 0;
    ncclCommUserRank(sub, &subRank);
    ncclCommCount(sub, &subCount);
    const int wantCount = rank % 2 == 0 ? 2 : 1;
    const int wantRank = rank == 2 ? 0 : rank == 0 ? 1 : 0;
    if (subCount != wantCount || subRank != wantRank) return 4;
    int v = rank;
    if (ncclAllReduce(&v, &v, 1, ncclInt, ncclSum, sub, nullptr) != ncclSuccess) return 5;
    if (v != (rank % 2 == 0 ? 2 : 1)) return 6;
    ncclCommDestroy(sub);
    ncclCommDestroy(comm);
    return 0;
  });
  ASSERT_EQ(out.size(), 4u);
  for (size_t r = 0; r < out.size(); ++r)
    EXPECT_EQ(out[r].exitCode, 0) << "rank " << r << ": " << out[r].report;
}

TEST(Bootstrap, UnreachableCommIdFailsWithinTimeout) {
  auto out = runForkedRanks(
      1,
      [](int, int, const ncclUniqueId&, int fd) {
        ncclUniqueId id;
        if (ncclGetUniqueId(&id) != ncclSuccess) return 1;
        ncclComm_t comm;
        auto start = std::chrono::steady_clock::now();
        ncclResult_t res =
            ncclCommInitRank(&comm, 2, id, 1);  // rank 0 never comes: nobody hosts the root
        double sec =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        tccl::test::report(
            fd, std::string(ncclGetLastError(nullptr)) + " after " + std::to_string(sec) + " s");
        return res != ncclSuccess && sec < 15 ? 0 : 2;
      },
      [](int) {
        setenv("NCCL_COMM_ID", "127.0.0.1:1", 1);  // nothing listens on port 1
        setenv("TCCL_BOOTSTRAP_TIMEOUT", "2", 1);
      });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].exitCode, 0) << out[0].report;
  EXPECT_NE(out[0].report.find("cannot reach the bootstrap root"), std::string::npos)
      << out[0].report;
}

TEST(Bootstrap, MissingRankFailsWithinTimeout) {
  ncclUniqueId id;
  ASSERT_EQ(ncclGetUniqueId(&id), ncclSuccess);
  setenv("TCCL_BOOTSTRAP_TIMEOUT", "2", 1);
  ncclComm_t comm;
  auto start = std::chrono::steady_clock::now();
  ncclResult_t res = ncclCommInitRank(&comm, 3, id, 0);  // ranks 1 and 2 never come
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  unsetenv("TCCL_BOOTSTRAP_TIMEOUT");
  EXPECT_NE(res, ncclSuccess);
  EXPECT_LT(sec, 15);
  EXPECT_NE(lastError().find("TCCL_BOOTSTRAP_TIMEOUT"), std::string::npos) << lastError();
}

// Garbage sent to the rendezvous port is dropped and the job still forms.
TEST(Bootstrap, GarbageConnectionIsRejected) {
  ncclUniqueId id;
  ASSERT_EQ(ncclGetUniqueId(&id), ncclSuccess);
  tccl::UniqueIdContent content;
  memcpy(&content, id.internal, sizeof(content));
  tccl::SocketAddress root = tccl::unpackAddress(content.root);
  for (int attempt = 0; attempt < 3; ++attempt) {
    int fd = socket(root.storage.ss_family, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&root.storage), root.length()), 0);
    std::string junk = attempt == 0 ? "GET / HTTP/1.0\r\n\r\n" : std::string(attempt * 100, '\xff');
    (void)!write(fd, junk.data(), junk.size());
    close(fd);
  }
  std::vector<std::thread> ranks;
  int results[2] = {-1, -1};
  for (int r = 0; r < 2; ++r)
    ranks.emplace_back([&, r] {
      ncclComm_t comm;
      if (ncclCommInitRank(&comm, 2, id, r) != ncclSuccess) return;
      results[r] = 0;
      ncclCommDestroy(comm);
    });
  for (auto& t : ranks) t.join();
  EXPECT_EQ(results[0], 0);
  EXPECT_EQ(results[1], 0);
}

// One rank whose init, after `setup`, must fail with ncclInvalidArgument (exit code 0 then);
// its report is the error message.
std::vector<tccl::test::RankOutcome> initRefused(const std::function<void(int)>& setup) {
  return runForkedRanks(
      1,
      [](int rank, int n, const ncclUniqueId& id, int fd) {
        ncclComm_t comm;
        ncclResult_t res = ncclCommInitRank(&comm, n, id, rank);
        tccl::test::report(fd, ncclGetLastError(nullptr));
        return res == ncclInvalidArgument ? 0 : 1;
      },
      setup);
}

TEST(Env, MalformedVariableIsAnInitError) {
  auto out = initRefused([](int) { setenv("TCCL_CHUNK_SIZE", "12q", 1); });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].exitCode, 0) << out[0].report;
  EXPECT_NE(out[0].report.find("TCCL_CHUNK_SIZE='12q'"), std::string::npos) << out[0].report;
}

// A topology file with a number no double holds: through the C API, an error that names the
// file, never an exception that kills the host program (it did: SIGABRT).
TEST(Files, BadTopologyIsAnErrorNotAnAbort) {
  const std::string path = "/tmp/tccl-api-overflow-" + std::to_string(getpid()) + ".json";
  {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(
        "{\"name\": \"x\", \"cpu_model\": \"y\", \"sockets\": [{\"link_gbps\": 1}],"
        " \"numa_nodes\": [{\"socket\": 0, \"memory_gbps\": 1e999, \"fabric_gbps\": 1}],"
        " \"pcie\": [], \"gpus\": []}",
        f);
    fclose(f);
  }
  auto out = initRefused([&](int) { setenv("TCCL_SIM_TOPOLOGY", path.c_str(), 1); });
  unlink(path.c_str());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].exitCode, 0) << out[0].report;
  EXPECT_NE(out[0].report.find("TCCL_SIM_TOPOLOGY"), std::string::npos) << out[0].report;
  EXPECT_NE(out[0].report.find("1e999"), std::string::npos) << out[0].report;
}

// Rank 1 stops (SIGSTOP) before an AllReduce: the others' TCCL_TIMEOUT error names the rank
// each waited for, what for, and that rank 1 is stopped.
TEST(Timeout, NamesTheRankThatMadeNoProgress) {
  struct Shared {
    std::atomic<int> stoppedPid{0};  // rank 1 leaves its pid here
    std::atomic<int> failed{0};      // the last of ranks 0 and 2 to fail ends rank 1
  };
  auto* shared = static_cast<Shared*>(
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(shared, MAP_FAILED);
  new (shared) Shared;
  auto out = runForkedRanks(
      3,
      [shared](int rank, int n, const ncclUniqueId& id, int fd) {
        ncclComm_t comm;
        if (ncclCommInitRank(&comm, n, id, rank) != ncclSuccess) return 3;
        std::vector<float> buf(1 << 16, 1.0f);
        if (rank == 1) {
          shared->stoppedPid.store(getpid());
          raise(SIGSTOP);
          return 0;
        }
        ncclResult_t res =
            ncclAllReduce(buf.data(), buf.data(), buf.size(), ncclFloat, ncclSum, comm, nullptr);
        tccl::test::report(fd, ncclGetLastError(comm));
        if (shared->failed.fetch_add(1) == 1) kill(shared->stoppedPid.load(), SIGKILL);
        // Neither exits before the other has failed: an exited rank 2 would turn rank 0's
        // timeout into a "peer has exited" error.
        for (int i = 0; i < 3000 && shared->failed.load() < 2; ++i) usleep(10000);
        return res == ncclRemoteError ? 0 : 1;
      },
      [](int) {
        setenv("TCCL_TIMEOUT", "2", 1);
        setenv("TCCL_DIRECT_ALLREDUCE", "0", 1);
      },
      60);
  munmap(shared, sizeof(Shared));
  ASSERT_EQ(out.size(), 3u);
  for (int r : {0, 2}) {
    EXPECT_EQ(out[r].exitCode, 0) << out[r].report;
    EXPECT_NE(out[r].report.find("(TCCL_TIMEOUT) in AllReduce of 65536 x float"), std::string::npos)
        << out[r].report;
    // Rank 2 waits for rank 1 directly; rank 0 for rank 2, which waits for rank 1.
    EXPECT_NE(out[r].report.find(r == 2 ? "rank 1 made no progress" : "rank 2 made no progress"),
              std::string::npos)
        << out[r].report;
    EXPECT_NE(out[r].report.find(" waits at step "), std::string::npos) << out[r].report;
    EXPECT_NE(out[r].report.find("rank 1 (pid "), std::string::npos) << out[r].report;
    EXPECT_NE(out[r].report.find(") is stopped"), std::string::npos) << out[r].report;
  }
}

TEST(Unsupported, ClearErrors) {
  EXPECT_EQ(ncclCommWindowRegister(nullptr, nullptr, 0, nullptr, 0), ncclInvalidUsage);
  EXPECT_NE(lastError().find("not supported by TCCL"), std::string::npos) << lastError();
  ncclSimInfo_t info = NCCL_SIM_INFO_INITIALIZER;
  EXPECT_EQ(ncclGroupSimulateEnd(&info), ncclInvalidUsage);
}

}  // namespace

// A non-blocking init still waiting for its peers is interrupted by ncclCommAbort.
TEST(Abort, ReturnsPromptlyDuringInit) {
  ncclUniqueId id;
  ASSERT_EQ(ncclGetUniqueId(&id), ncclSuccess);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclComm_t comm = nullptr;
  ASSERT_EQ(ncclCommInitRankConfig(&comm, 2, id, 0, &config),
            ncclInProgress);  // rank 1 never comes
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ncclResult_t state = ncclSuccess;
  ASSERT_EQ(ncclCommGetAsyncError(comm, &state), ncclSuccess);
  EXPECT_EQ(state, ncclInProgress);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ncclCommAbort(comm), ncclSuccess);
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(sec, 3.0) << "TCCL_BOOTSTRAP_TIMEOUT is 120 s: abort must not wait for it";
}
