// 2 and 4 ranks (one process each) on GPU 0: every ring collective over p2p write, p2p read
// and host-bounce hops, checked element by element.
#include <gtest/gtest.h>

#include <string>

#include "common/forked_ranks.h"
#include "cuda/cuda_test_util.h"
#include "cuda/ring_harness.h"

namespace tccl::test {
namespace {

struct MultiRankCase {
  int nranks;
  const char* hop;
};

class CudaMultiRank : public ::testing::TestWithParam<MultiRankCase> {};

int rankBody(int rank, int nranks, const ncclUniqueId& id, int fd, const Hop& hop) {
  auto report = [fd](const std::string& s) { (void)!write(fd, s.data(), s.size()); };
  RingRank r;
  if (ringBootstrap(id, rank, nranks, &r) != ncclSuccess ||
      ringConnectSend(&r, 0, hop, 256 << 10, 4) != ncclSuccess ||
      ringConnectRecv(&r, hop, 4) != ncclSuccess || ringAwaitReceiver(&r, hop, 4) != ncclSuccess) {
    report("setup failed: " + lastThreadError() + "\n");
    return 1;
  }
  cudaStream_t stream = nullptr;
  if (cudaStreamCreate(&stream) != cudaSuccess) return 2;
  int failures = 0;
  for (CollKind kind : {CollKind::kAllReduce, CollKind::kAllGather, CollKind::kReduceScatter,
                        CollKind::kBroadcast}) {
    for (ncclDataType_t type : {ncclFloat32, ncclFloat16, ncclBfloat16, ncclInt32}) {
      for (size_t count : {size_t{1}, size_t{1001}, size_t{3} << 20}) {
        CollArgs args{kind, nullptr, nullptr, count, 0};
        std::string mismatch;
        double sec = 0;
        if (runRingColl(r, args, type, stream, 0, &mismatch, &sec) != ncclSuccess) {
          report("error: " + lastThreadError() + "\n");
          return 3;
        }
        if (!mismatch.empty()) {
          report("count " + std::to_string(count) + ": " + mismatch + "\n");
          ++failures;
        }
      }
    }
  }
  cudaStreamDestroy(stream);
  return failures ? 4 : 0;
}

TEST_P(CudaMultiRank, CollectivesAreCorrect) {
  const std::string why = probeCudaInChild();
  if (!why.empty()) GTEST_SKIP() << "no usable CUDA device: " << why;
  Hop hop;
  ASSERT_TRUE(parseHopArg(GetParam().hop, &hop));
  auto outcomes =
      runForkedRanks(GetParam().nranks, [&](int rank, int n, const ncclUniqueId& id, int fd) {
        return rankBody(rank, n, id, fd, hop);
      });
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(GetParam().nranks));
  for (size_t r = 0; r < outcomes.size(); ++r)
    EXPECT_EQ(outcomes[r].exitCode, 0) << "rank " << r << ": " << outcomes[r].report;
}

INSTANTIATE_TEST_SUITE_P(
    Hops, CudaMultiRank,
    ::testing::Values(MultiRankCase{2, "p2p_write"}, MultiRankCase{2, "p2p_read"},
                      MultiRankCase{2, "bounce"}, MultiRankCase{4, "p2p_write"},
                      MultiRankCase{4, "p2p_read"}, MultiRankCase{4, "bounce@0"}),
    [](const auto& info) {
      std::string name = std::to_string(info.param.nranks) + "ranks_" + info.param.hop;
      for (char& c : name)
        if (c == '@') c = '_';
      return name;
    });

}  // namespace
}  // namespace tccl::test
