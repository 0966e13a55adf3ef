// The tree schedules on 6 ranks (3 nodes x 2) in one process: every tree edge is an in-memory
// slot FIFO, the executor drives all ranks at once, results are checked exactly.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "common/memory_fifo.h"
#include "exec/executor.h"
#include "exec/tree_schedule.h"
#include "plan/tree_builder.h"
#include "transport/connection.h"

namespace tccl {
namespace {

constexpr int kRanks = 6;
constexpr size_t kChunkElems = 100;  // small: many pipelined chunks

struct Job {
  std::vector<Tree> trees = db::buildTreesFromChains({{0, 1}, {2, 3}, {4, 5}}, kRanks);
  std::map<std::tuple<size_t, int, int>, std::unique_ptr<tccl::test::MemoryFifo>>
      edges;  // (tree, from, to)
  std::vector<std::vector<TreeView>> views{kRanks};

  Job() {
    for (size_t t = 0; t < trees.size(); ++t)
      for (int r = 0; r < kRanks; ++r) {
        TreeView v;
        v.tree = &trees[t];
        v.rank = r;
        v.neighbors = treeNeighbors(trees[t], r);
        for (int nb : v.neighbors) {
          v.send.push_back(edge(t, r, nb));
          v.recv.push_back(edge(t, nb, r));
        }
        views[r].push_back(std::move(v));
      }
  }
  Connection* edge(size_t t, int from, int to) {
    auto& e = edges[{t, from, to}];
    if (!e) e = std::make_unique<tccl::test::MemoryFifo>(kChunkElems * sizeof(int64_t), 2);
    return e.get();
  }
};

// Runs `kind` on every rank; in[r] is rank r's input, returns every rank's output.
std::vector<std::vector<int64_t>> run(CollKind kind, int root, size_t count, ReduceKind op,
                                      const std::vector<std::vector<int64_t>>& in) {
  Job job;
  auto device = makeHostBackend();
  std::vector<std::vector<int64_t>> out(kRanks, std::vector<int64_t>(count + 1, -1));
  std::vector<WorkQueue> queues(kRanks);
  std::vector<WorkQueue*> ptrs;
  for (int r = 0; r < kRanks; ++r) {
    Program prog;
    prog.spec.type = ncclInt64;
    prog.spec.kind = op;
    prog.elemSize = sizeof(int64_t);
    CollArgs args;
    args.kind = kind;
    args.sendbuff = in[r].data();
    args.recvbuff = out[r].data();
    args.count = count;
    args.root = root;
    EXPECT_EQ(buildTreeProgram(args, job.views[r], kChunkElems, *device, &prog), ncclSuccess);
    queues[r].device = device.get();
    queues[r].rank = r;
    queues[r].sequential.push_back(std::move(prog));
    ptrs.push_back(&queues[r]);
  }
  WaitPolicy policy;
  policy.timeoutSec = 10;
  EXPECT_EQ(runWorkQueues(ptrs, policy), ncclSuccess);
  return out;
}

std::vector<std::vector<int64_t>> inputs(size_t count) {
  std::vector<std::vector<int64_t>> in(kRanks, std::vector<int64_t>(count + 1));
  for (int r = 0; r < kRanks; ++r)
    for (size_t i = 0; i < count; ++i) in[r][i] = static_cast<int64_t>((r * 31 + i * 7) % 1000);
  return in;
}

TEST(TreeSchedule, AllReduceSumAndMax) {
  for (size_t count : {0, 1, 99, 1001, 5000})
    for (ReduceKind op : {ReduceKind::kSum, ReduceKind::kMax}) {
      auto in = inputs(count);
      auto out = run(CollKind::kAllReduce, 0, count, op, in);
      for (int r = 0; r < kRanks; ++r)
        for (size_t i = 0; i < count; ++i) {
          int64_t want = in[0][i];
          for (int s = 1; s < kRanks; ++s)
            want = op == ReduceKind::kSum ? want + in[s][i] : std::max(want, in[s][i]);
          ASSERT_EQ(out[r][i], want) << "rank " << r << " element " << i << " count " << count;
        }
    }
}

TEST(TreeSchedule, BroadcastAndReduceFromEveryRoot) {
  const size_t count = 777;
  auto in = inputs(count);
  for (int root = 0; root < kRanks; ++root) {
    auto b = run(CollKind::kBroadcast, root, count, ReduceKind::kSum, in);
    for (int r = 0; r < kRanks; ++r)
      for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(b[r][i], in[root][i]) << "broadcast root " << root << " rank " << r;
    auto red = run(CollKind::kReduce, root, count, ReduceKind::kSum, in);
    for (size_t i = 0; i < count; ++i) {
      int64_t want = 0;
      for (int s = 0; s < kRanks; ++s) want += in[s][i];
      ASSERT_EQ(red[root][i], want) << "reduce root " << root << " element " << i;
    }
  }
}

TEST(TreeSchedule, DefaultTreesAreADoubleBinaryTreeOverNodeHeads) {
  Job job;
  ASSERT_EQ(job.trees.size(), 2u);
  // Inside a node the second rank hangs below the first in both trees.
  for (const Tree& t : job.trees)
    for (int head : {0, 2, 4}) EXPECT_EQ(t.parent[head + 1], head);
  EXPECT_NE(std::find(job.trees[0].parent.begin(), job.trees[0].parent.end(), -1) -
                job.trees[0].parent.begin(),
            std::find(job.trees[1].parent.begin(), job.trees[1].parent.end(), -1) -
                job.trees[1].parent.begin());
}

}  // namespace
}  // namespace tccl
