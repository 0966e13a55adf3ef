// Ring schedules run in one thread over in-memory connections: every simulated rank is a
// WorkQueue of the same executor, which is exactly how one thread drives several
// communicators inside a group.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <numeric>
#include <vector>

#include "../common/memory_fifo.h"
#include "exec/executor.h"
#include "exec/ring_schedule.h"
#include "transport/connection.h"

using namespace tccl;
using tccl::test::MemoryFifo;

namespace {

// Runs one collective on n simulated ranks with the given ring order and chunk size.
std::vector<std::vector<float>> runRing(CollKind kind, const std::vector<int>& order, size_t count,
                                        size_t chunkElems, int root = 0) {
  const int n = static_cast<int>(order.size());
  std::vector<std::unique_ptr<MemoryFifo>> fifos;  // fifos[p]: order[p] -> order[p+1]
  for (int p = 0; p < n; ++p)
    fifos.push_back(std::make_unique<MemoryFifo>(chunkElems * sizeof(float), 2));
  const bool gather = kind == CollKind::kAllGather, scatter = kind == CollKind::kReduceScatter;
  std::vector<std::vector<float>> in(n), out(n);
  for (int r = 0; r < n; ++r) {
    in[r].resize(scatter ? count * n : count);
    for (size_t i = 0; i < in[r].size(); ++i)
      in[r][i] = static_cast<float>((r + 1) * 1000 + i % 997);
    out[r].assign(gather ? count * n : count, -1.0f);
  }
  auto host = makeHostBackend();
  std::vector<WorkQueue> queues(n);
  for (int r = 0; r < n; ++r) {
    const int pos = static_cast<int>(std::find(order.begin(), order.end(), r) - order.begin());
    RingView view{order, pos, fifos[pos].get(), fifos[(pos - 1 + n) % n].get()};
    Program prog;
    prog.spec.type = ncclFloat32;
    prog.elemSize = sizeof(float);
    buildRingProgram(CollArgs{kind, in[r].data(), out[r].data(), count, root}, {view}, chunkElems,
                     &prog);
    queues[r].device = host.get();
    queues[r].rank = r;
    queues[r].sequential.push_back(std::move(prog));
  }
  std::vector<WorkQueue*> ptrs;
  for (auto& q : queues) ptrs.push_back(&q);
  EXPECT_EQ(runWorkQueues(ptrs, WaitPolicy{}), ncclSuccess);
  return out;
}

}  // namespace

TEST(RingSchedule, AllReduceAnyOrderAnyChunk) {
  for (std::vector<int> order : {std::vector<int>{0, 1, 2}, {2, 0, 3, 1}, {4, 3, 2, 1, 0}})
    for (size_t count : {1, 5, 100, 1001})
      for (size_t chunk : {1, 3, 64}) {
        const int n = static_cast<int>(order.size());
        auto out = runRing(CollKind::kAllReduce, order, count, chunk);
        for (int r = 0; r < n; ++r)
          for (size_t i = 0; i < count; ++i) {
            float want = 0;
            for (int s = 0; s < n; ++s) want += static_cast<float>((s + 1) * 1000 + i % 997);
            ASSERT_EQ(out[r][i], want)
                << "rank " << r << " i " << i << " n " << n << " chunk " << chunk;
          }
      }
}

TEST(RingSchedule, AllGatherAndReduceScatterFollowRanksNotPositions) {
  const std::vector<int> order{3, 1, 0, 2};
  auto ag = runRing(CollKind::kAllGather, order, 37, 5);
  for (int r = 0; r < 4; ++r)
    for (int b = 0; b < 4; ++b)
      for (size_t i = 0; i < 37; ++i)
        ASSERT_EQ(ag[r][b * 37 + i], static_cast<float>((b + 1) * 1000 + i)) << r << " " << b;
  auto rs = runRing(CollKind::kReduceScatter, order, 37, 5);
  for (int r = 0; r < 4; ++r)
    for (size_t i = 0; i < 37; ++i)
      ASSERT_EQ(rs[r][i], static_cast<float>(10 * 1000 + 4 * ((r * 37 + i) % 997))) << r;
}

TEST(RingSchedule, BroadcastAndReduceFromEveryRoot) {
  const std::vector<int> order{1, 3, 0, 2};
  for (int root = 0; root < 4; ++root) {
    auto bc = runRing(CollKind::kBroadcast, order, 50, 7, root);
    for (int r = 0; r < 4; ++r)
      for (size_t i = 0; i < 50; ++i)
        ASSERT_EQ(bc[r][i], static_cast<float>((root + 1) * 1000 + i)) << root;
    auto red = runRing(CollKind::kReduce, order, 50, 7, root);
    for (size_t i = 0; i < 50; ++i)
      ASSERT_EQ(red[root][i], static_cast<float>(10000 + 4 * i)) << root;
  }
}
