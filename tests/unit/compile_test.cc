// exec/compile on one rank's channels: which algorithm a collective gets, which connections its
// lanes use, how steps are sized, and the lanes of a group's point-to-point operations.
#include "exec/compile.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/memory_fifo.h"
#include "exec/tree_schedule.h"

namespace tccl {
namespace {

using test::MemoryFifo;

constexpr size_t kChunkBytes = 4096;

// Ranks 0-1 on one node, 2-3 on another; two ring channels and the default trees.
struct TwoNodes {
  JobShape shape;
  Plan plan;
  TwoNodes() {
    std::vector<RankInfo> ranks(4);
    for (int r = 0; r < 4; ++r) {
      ranks[r].rank = r;
      ranks[r].hostHash = r < 2 ? 11 : 22;
    }
    shape = deriveJobShape(ranks);
    plan = buildDefaultPlan(shape, 2);
  }
};

std::unique_ptr<Connection> fifo() {
  return std::make_unique<MemoryFifo>(kChunkBytes, 2);
}

// `rank`'s channels of `plan`, every link connected (to nothing: compile only reads them).
ChannelSet connected(const Plan& plan, int rank, bool withTrees) {
  ChannelSet set = layOutChannels(plan, rank, withTrees);
  for (RingChannel& ring : set.rings) {
    ring.send = fifo();
    ring.recv = fifo();
  }
  for (TreeChannel& tree : set.trees)
    for (TreeLink& link : tree.links) {
      link.send = fifo();
      link.recv = fifo();
    }
  return set;
}

CollTask task(CollKind kind, size_t count, ncclDataType_t type = ncclFloat32) {
  static std::vector<char> in(1 << 20), out(1 << 20);
  CollTask t;
  t.args = CollArgs{kind, in.data(), out.data(), count, 0};
  t.spec.type = type;
  return t;
}

struct Compiled {
  ncclResult_t res;
  Program prog;
};

Compiled compile(const CollTask& t, const ChannelSet& channels, const JobShape& shape,
                 const std::string& algo = "", BufferExchange* exchange = nullptr,
                 uint64_t* seq = nullptr) {
  static auto device = makeHostBackend();
  const CollTarget target{.channels = channels,
                          .shape = shape,
                          .device = *device,
                          .chunkBytes = kChunkBytes,
                          .treeMaxBytes = 64 << 10,
                          .algo = algo,
                          .exchange = exchange,
                          .directSeq = seq};
  Compiled c;
  c.res = compileCollective(t, target, &c.prog);
  return c;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Every connection the lanes (or their steps) use.
std::vector<const Connection*> connectionsUsed(const Program& prog) {
  std::vector<const Connection*> used;
  for (const Lane& lane : prog.lanes) {
    for (const Connection* c : {lane.sendConn, lane.recvConn})
      if (c) used.push_back(c);
    for (const Step& s : lane.steps)
      for (const Connection* c : {s.sendConn, s.recvConn})
        if (c) used.push_back(c);
  }
  return used;
}

bool contains(const std::vector<const Connection*>& v, const Connection* c) {
  return std::find(v.begin(), v.end(), c) != v.end();
}

TEST(ChannelSet, LaysOutThePlanThroughThisRank) {
  TwoNodes job;
  job.plan.rings[1].order = {3, 1, 0, 2};
  for (int rank = 0; rank < 4; ++rank) {
    const ChannelSet set = layOutChannels(job.plan, rank, true);
    EXPECT_EQ(set.rank, rank);
    ASSERT_EQ(set.rings.size(), 2u);
    for (size_t c = 0; c < 2; ++c) {
      EXPECT_EQ(set.rings[c].order, job.plan.rings[c].order);
      EXPECT_EQ(set.rings[c].order[set.rings[c].position], rank);
      EXPECT_EQ(set.rings[c].send, nullptr);
    }
    ASSERT_EQ(set.trees.size(), job.plan.trees.size());
    for (size_t t = 0; t < set.trees.size(); ++t) {
      std::vector<int> peers;
      for (const TreeLink& link : set.trees[t].links) peers.push_back(link.peer);
      EXPECT_EQ(peers, treeNeighbors(job.plan.trees[t], rank)) << "rank " << rank << " tree " << t;
    }
    EXPECT_TRUE(layOutChannels(job.plan, rank, false).trees.empty());
  }
  const ChannelSet set = connected(job.plan, 2, true);
  const std::vector<TreeView> views = treeViews(set);
  ASSERT_EQ(views.size(), set.trees.size());
  for (size_t t = 0; t < views.size(); ++t) {
    EXPECT_EQ(views[t].rank, 2);
    EXPECT_EQ(views[t].tree, &set.trees[t].tree);
    ASSERT_EQ(views[t].neighbors.size(), set.trees[t].links.size());
    for (size_t i = 0; i < views[t].neighbors.size(); ++i) {
      EXPECT_EQ(views[t].neighbors[i], set.trees[t].links[i].peer);
      EXPECT_EQ(views[t].send[i], set.trees[t].links[i].send.get());
      EXPECT_EQ(views[t].recv[i], set.trees[t].links[i].recv.get());
    }
  }
  const std::vector<RingView> rings = ringViews(set);
  ASSERT_EQ(rings.size(), 2u);
  EXPECT_EQ(rings[1].position, 3);  // rank 2 in {3, 1, 0, 2}
  EXPECT_EQ(rings[1].send, set.rings[1].send.get());
  EXPECT_EQ(rings[1].recv, set.rings[1].recv.get());
}

TEST(Compile, SmallAcrossNodesIsTreeLargeIsRing) {
  TwoNodes job;
  const ChannelSet set = connected(job.plan, 1, true);
  ASSERT_FALSE(set.trees.empty());

  Compiled small = compile(task(CollKind::kAllReduce, 1024), set, job.shape);
  ASSERT_EQ(small.res, ncclSuccess);
  EXPECT_TRUE(endsWith(small.prog.what, "(Tree)")) << small.prog.what;
  EXPECT_EQ(small.prog.what, "AllReduce of 1024 x float (Tree)");
  const auto treeUsed = connectionsUsed(small.prog);
  for (const TreeChannel& tree : set.trees)
    for (const TreeLink& link : tree.links) {
      EXPECT_TRUE(contains(treeUsed, link.send.get())) << "to " << link.peer;
      EXPECT_TRUE(contains(treeUsed, link.recv.get())) << "from " << link.peer;
    }
  for (const RingChannel& ring : set.rings) EXPECT_FALSE(contains(treeUsed, ring.send.get()));

  Compiled large = compile(task(CollKind::kAllReduce, 64 << 10), set, job.shape);
  ASSERT_EQ(large.res, ncclSuccess);
  EXPECT_TRUE(endsWith(large.prog.what, "(Ring)")) << large.prog.what;
  ASSERT_EQ(large.prog.lanes.size(), set.rings.size());
  for (size_t c = 0; c < set.rings.size(); ++c) {
    EXPECT_EQ(large.prog.lanes[c].sendConn, set.rings[c].send.get());
    EXPECT_EQ(large.prog.lanes[c].recvConn, set.rings[c].recv.get());
  }
}

TEST(Compile, AlgoKnobAndShapeDecide) {
  TwoNodes job;
  const ChannelSet set = connected(job.plan, 0, true);
  auto algoOf = [&](const CollTask& t, const ChannelSet& s, const JobShape& shape,
                    const std::string& algo) {
    Compiled c = compile(t, s, shape, algo);
    EXPECT_EQ(c.res, ncclSuccess);
    return endsWith(c.prog.what, "(Tree)") ? "tree" : "ring";
  };
  const CollTask small = task(CollKind::kAllReduce, 16),
                 large = task(CollKind::kAllReduce, 1 << 18);
  EXPECT_STREQ(algoOf(small, set, job.shape, "ring"), "ring");
  EXPECT_STREQ(algoOf(large, set, job.shape, "tree"), "tree");
  EXPECT_STREQ(algoOf(task(CollKind::kBroadcast, 16), set, job.shape, ""), "tree");
  EXPECT_STREQ(algoOf(task(CollKind::kAllGather, 16), set, job.shape, ""), "ring");
  EXPECT_STREQ(algoOf(task(CollKind::kReduceScatter, 16), set, job.shape, "tree"), "ring");
  // Trees not connected: ring whatever the knob says.
  const ChannelSet ringsOnly = connected(job.plan, 0, false);
  EXPECT_STREQ(algoOf(small, ringsOnly, job.shape, "tree"), "ring");
  // One node: the default picks ring even for small messages.
  JobShape oneNode = job.shape;
  oneNode.nodeRanks = {{0, 1, 2, 3}};
  EXPECT_STREQ(algoOf(small, set, oneNode, ""), "ring");
}

TEST(Compile, StepsHoldAtMostOneSlot) {
  TwoNodes job;
  const ChannelSet set = connected(job.plan, 2, true);
  for (auto [type, size] : {std::pair{ncclFloat32, 4u}, std::pair{ncclFloat64, 8u}})
    for (const std::string algo : {"ring", "tree"}) {
      Compiled c = compile(task(CollKind::kAllReduce, 100000, type), set, job.shape, algo);
      ASSERT_EQ(c.res, ncclSuccess);
      EXPECT_EQ(c.prog.elemSize, size);
      size_t largest = 0;
      for (const Lane& lane : c.prog.lanes)
        for (const Step& s : lane.steps) largest = std::max(largest, s.count);
      EXPECT_EQ(largest, kChunkBytes / size) << algo << " " << size;
    }
}

class RecordingExchange final : public BufferExchange {
 public:
  std::vector<uint64_t> published;
  void publish(uint64_t seq, const void*, size_t, void*, size_t) override {
    published.push_back(seq);
  }
  ncclResult_t tryCollect(uint64_t, std::vector<PeerBuffers>*, bool* ready) override {
    *ready = false;
    return ncclSuccess;
  }
  void arrive(uint64_t, int) override {}
  bool allArrived(uint64_t, int) override { return false; }
  int firstMissing(uint64_t, int) override { return 0; }
  ncclResult_t checkPeers() override { return ncclSuccess; }
};

TEST(Compile, DirectAllReduceOnlyWithAnExchange) {
  TwoNodes job;
  const ChannelSet set = connected(job.plan, 0, false);
  EXPECT_EQ(compile(task(CollKind::kAllReduce, 1 << 16), set, job.shape).prog.custom, nullptr);

  RecordingExchange exchange;
  uint64_t seq = 7;
  Compiled first =
      compile(task(CollKind::kAllReduce, 1 << 16), set, job.shape, "", &exchange, &seq);
  Compiled gather =
      compile(task(CollKind::kAllGather, 1 << 10), set, job.shape, "", &exchange, &seq);
  Compiled second =
      compile(task(CollKind::kAllReduce, 1 << 16), set, job.shape, "", &exchange, &seq);
  EXPECT_EQ(gather.prog.custom, nullptr);
  ASSERT_NE(first.prog.custom, nullptr);
  ASSERT_NE(second.prog.custom, nullptr);
  EXPECT_EQ(seq, 9u);
  // The ring lanes stay: the direct algorithm may hand over to them.
  EXPECT_EQ(first.prog.lanes.size(), set.rings.size());
  bool progressed = false;
  CustomOp::Outcome outcome;
  ASSERT_EQ(first.prog.custom->progress(&progressed, &outcome), ncclSuccess);
  ASSERT_EQ(second.prog.custom->progress(&progressed, &outcome), ncclSuccess);
  EXPECT_EQ(exchange.published, (std::vector<uint64_t>{8, 9}));
}

TEST(CompileP2p, OneLanePerPeerAndDirectionInIssueOrder) {
  std::map<int, std::unique_ptr<Connection>> send, recv;
  send[1] = fifo();
  send[2] = fifo();
  recv[1] = fifo();
  const size_t slot = 1024;
  std::vector<char> a(4000), b(10), c(40), d(1200);
  auto keep = std::make_shared<int>(0);
  std::vector<P2pTask> tasks = {
      {true, a.data(), 1000, ncclFloat32, 1, nullptr, nullptr},
      {false, b.data(), 10, ncclInt8, 1, nullptr, nullptr},
      {true, c.data(), 5, ncclFloat64, 2, nullptr, keep},
      {true, d.data(), 300, ncclFloat32, 1, nullptr, nullptr},
  };
  Program prog;
  compileP2p(tasks, send, recv, slot, &prog);
  EXPECT_EQ(prog.elemSize, 1u);
  EXPECT_EQ(prog.spec.type, ncclUint8);
  ASSERT_EQ(prog.lanes.size(), 3u);
  ASSERT_EQ(prog.keepAlive.size(), 1u);
  EXPECT_EQ(prog.keepAlive[0], keep);

  const Lane& toOne = prog.lanes[0];
  EXPECT_EQ(toOne.sendConn, send[1].get());
  EXPECT_EQ(toOne.recvConn, nullptr);
  std::vector<size_t> counts;
  std::vector<const void*> from;
  for (const Step& s : toOne.steps) {
    EXPECT_TRUE(s.send && !s.recv);
    counts.push_back(s.count);
    from.push_back(s.local);
  }
  EXPECT_EQ(counts, (std::vector<size_t>{1024, 1024, 1024, 928, 1024, 176}));
  EXPECT_EQ(from, (std::vector<const void*>{a.data(), a.data() + 1024, a.data() + 2048,
                                            a.data() + 3072, d.data(), d.data() + 1024}));

  const Lane& fromOne = prog.lanes[1];
  EXPECT_EQ(fromOne.recvConn, recv[1].get());
  EXPECT_EQ(fromOne.sendConn, nullptr);
  ASSERT_EQ(fromOne.steps.size(), 1u);
  EXPECT_TRUE(fromOne.steps[0].recv && !fromOne.steps[0].send);
  EXPECT_EQ(fromOne.steps[0].out, b.data());
  EXPECT_EQ(fromOne.steps[0].count, 10u);

  const Lane& toTwo = prog.lanes[2];
  EXPECT_EQ(toTwo.sendConn, send[2].get());
  ASSERT_EQ(toTwo.steps.size(), 1u);
  EXPECT_EQ(toTwo.steps[0].count, 40u);
}

TEST(Compile, CollectiveNames) {
  EXPECT_STREQ(collName(CollKind::kAllReduce), "AllReduce");
  EXPECT_STREQ(collName(CollKind::kAllGather), "AllGather");
  EXPECT_STREQ(collName(CollKind::kReduceScatter), "ReduceScatter");
  EXPECT_STREQ(collName(CollKind::kBroadcast), "Broadcast");
  EXPECT_STREQ(collName(CollKind::kReduce), "Reduce");
}

}  // namespace
}  // namespace tccl
