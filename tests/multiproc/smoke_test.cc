#include <dirent.h>
#include <gtest/gtest.h>
#include <nccl.h>
#include <pthread.h>

#include <algorithm>
#include <vector>

#include "../common/forked_ranks.h"

using tccl::test::runForkedRanks;

TEST(Smoke, AllReduceFloatSum) {
  for (int n : {1, 2, 3, 4}) {
    auto out = runForkedRanks(n, [](int rank, int nranks, const ncclUniqueId& id, int fd) {
      ncclComm_t comm;
      if (ncclCommInitRank(&comm, nranks, id, rank) != ncclSuccess) {
        tccl::test::report(fd, std::string("init failed: ") + ncclGetLastError(nullptr));
        return 1;
      }
      std::vector<float> buf(1000, static_cast<float>(rank + 1));
      if (ncclAllReduce(buf.data(), buf.data(), buf.size(), ncclFloat, ncclSum, comm, nullptr) !=
          ncclSuccess)
        return 2;
      float want = nranks * (nranks + 1) / 2.0f;
      for (float v : buf)
        if (v != want) return 3;
      ncclCommDestroy(comm);
      return 0;
    });
    ASSERT_EQ(out.size(), static_cast<size_t>(n));
    for (int r = 0; r < n; ++r)
      EXPECT_EQ(out[r].exitCode, 0) << "nranks " << n << " rank " << r << ": " << out[r].report;
  }
}

// Threads of this process seen at each fork(): a child forked while another thread runs may
// inherit a lock that thread held (malloc's, a sanitizer's allocator) and hang on it.
int gMostThreadsAtFork = 0;

int threadsOfThisProcess() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

TEST(ForkedRanks, NoThreadRunsWhenRanksAreForked) {
  pthread_atfork([] { gMostThreadsAtFork = std::max(gMostThreadsAtFork, threadsOfThisProcess()); },
                 nullptr, nullptr);
  auto out = runForkedRanks(2, [](int rank, int nranks, const ncclUniqueId& id, int) {
    ncclComm_t comm;
    if (ncclCommInitRank(&comm, nranks, id, rank) != ncclSuccess) return 1;
    ncclCommDestroy(comm);
    return 0;
  });
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) EXPECT_EQ(o.exitCode, 0) << o.report;
  EXPECT_EQ(gMostThreadsAtFork, 1);
}
