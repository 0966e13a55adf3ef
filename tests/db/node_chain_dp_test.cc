#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "db/node_chain_dp.h"
#include "db_test_util.h"
#include "plan/tree_builder.h"

namespace tccl::db {
namespace {

TEST(NodeChainDp, HopCodesMeetAsDocumented) {
  // Node i sends GPU-direct into a staged receiver; node i+1 receives staged from a GDR peer.
  const Hop exit = testing::net({.gdr = true, .peerGdr = false});
  const Hop entry = testing::net({.gdr = false, .peerGdr = true});
  EXPECT_EQ(exitCode(exit), entryCode(entry));
  // Same flags on both sides describe different transfers unless symmetric.
  EXPECT_NE(exitCode(exit), entryCode(testing::net({.gdr = true, .peerGdr = false})));
  EXPECT_EQ(exitCode(testing::net({.gdr = true, .peerGdr = true})),
            entryCode(testing::net({.gdr = true, .peerGdr = true})));
}

TEST(NodeChainDp, HomogeneousPicksBestClosingCode) {
  const std::vector<ChainOption> node = {{3, 3, 10.0}, {0, 0, 12.0}, {3, 0, 50.0}};
  const ChainChoice c = chooseNodeChains({node, node, node});
  EXPECT_DOUBLE_EQ(c.gbps, 12.0);
  EXPECT_EQ(c.option, (std::vector<int>{1, 1, 1}));
}

TEST(NodeChainDp, HeterogeneousNodesKnownOptimum) {
  // Node 0 converts GDR input to staged output at 20 GB/s, node 1 converts back at 15:
  // min 15 beats the all-GDR ring (min 5).
  const std::vector<ChainOption> a = {{3, 0, 20.0}, {3, 3, 5.0}};
  const std::vector<ChainOption> b = {{0, 3, 15.0}, {3, 3, 30.0}};
  const ChainChoice c = chooseNodeChains({a, b});
  EXPECT_DOUBLE_EQ(c.gbps, 15.0);
  EXPECT_EQ(c.option, (std::vector<int>{0, 0}));
  // Three nodes a, b, b: a's staged output feeds b, b's GDR output must return to a; the
  // middle b has to keep GDR (3->3) at 30, so the ring is min(20, 30, 15) = 15.
  const ChainChoice c3 = chooseNodeChains({a, b, b});
  EXPECT_DOUBLE_EQ(c3.gbps, 15.0);
  EXPECT_EQ(c3.option, (std::vector<int>{0, 0, 1}));
}

TEST(NodeChainDp, NoClosingRing) {
  const std::vector<ChainOption> a = {{3, 0, 20.0}};
  const std::vector<ChainOption> b = {{3, 3, 30.0}};
  const ChainChoice c = chooseNodeChains({a, b});
  EXPECT_EQ(c.gbps, 0.0);
  EXPECT_TRUE(c.option.empty());
  EXPECT_TRUE(chooseNodeChains({a, {}}).option.empty());
  EXPECT_TRUE(chooseNodeChains({}).option.empty());
}

TEST(NodeChainDp, SingleNodeMustCloseOnItself) {
  const ChainChoice c = chooseNodeChains({{{3, 0, 40.0}, {2, 2, 7.0}}});
  EXPECT_DOUBLE_EQ(c.gbps, 7.0);
  EXPECT_EQ(c.option, std::vector<int>{1});
}

TEST(NodeChainDp, TiesGoToLowestIndices) {
  const std::vector<ChainOption> node = {{0, 0, 10.0}, {3, 3, 10.0}};
  const ChainChoice c = chooseNodeChains({node, node});
  EXPECT_EQ(c.option, (std::vector<int>{0, 0}));
}

double bruteForce(const std::vector<std::vector<ChainOption>>& options) {
  double best = 0;
  std::vector<int> pick(options.size(), 0);
  std::function<void(size_t)> rec = [&](size_t i) {
    if (i == options.size()) {
      double bn = 1e300;
      for (size_t k = 0; k < options.size(); ++k) {
        const ChainOption& cur = options[k][pick[k]];
        const ChainOption& next = options[(k + 1) % options.size()][pick[(k + 1) % options.size()]];
        if (cur.outCode != next.inCode) return;
        bn = std::min(bn, cur.gbps);
      }
      best = std::max(best, bn);
      return;
    }
    for (size_t o = 0; o < options[i].size(); ++o) {
      pick[i] = static_cast<int>(o);
      rec(i + 1);
    }
  };
  rec(0);
  return best;
}

TEST(NodeChainDp, MatchesBruteForceOnRandomTables) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> code(0, 3), nOpts(1, 4), nNodes(1, 5), bw(1, 40);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<std::vector<ChainOption>> options(nNodes(rng));
    for (auto& node : options) {
      const int k = nOpts(rng);
      for (int o = 0; o < k; ++o) node.push_back({code(rng), code(rng), double(bw(rng))});
    }
    const ChainChoice c = chooseNodeChains(options);
    const double expect = bruteForce(options);
    ASSERT_DOUBLE_EQ(c.gbps, expect) << "trial " << trial;
    if (expect == 0) {
      EXPECT_TRUE(c.option.empty());
      continue;
    }
    // The returned choice really closes a ring at that bottleneck.
    ASSERT_EQ(c.option.size(), options.size());
    double bn = 1e300;
    for (size_t i = 0; i < options.size(); ++i) {
      const ChainOption& cur = options[i][c.option[i]];
      const ChainOption& next =
          options[(i + 1) % options.size()][c.option[(i + 1) % options.size()]];
      EXPECT_EQ(cur.outCode, next.inCode);
      bn = std::min(bn, cur.gbps);
    }
    EXPECT_DOUBLE_EQ(bn, expect);
  }
}

// Every tree is a tree: one root, no cycles, every position reaches the root.
void expectTree(const std::vector<int>& parent) {
  int roots = 0;
  for (size_t i = 0; i < parent.size(); ++i) {
    if (parent[i] == -1) ++roots;
    int p = static_cast<int>(i), steps = 0;
    while (parent[p] != -1 && steps <= static_cast<int>(parent.size())) p = parent[p], ++steps;
    EXPECT_LE(steps, static_cast<int>(parent.size())) << "cycle at " << i;
  }
  EXPECT_EQ(roots, parent.empty() ? 0 : 1);
}

TEST(TreeBuilder, BinaryTreesAreTreesWithAtMostTwoChildren) {
  for (int n = 1; n <= 33; ++n) {
    for (const auto& parent : doubleBinaryTreeParents(n)) {
      ASSERT_EQ(static_cast<int>(parent.size()), n);
      expectTree(parent);
      std::vector<int> kids(n, 0);
      for (int p : parent)
        if (p >= 0) ++kids[p];
      for (int k : kids) EXPECT_LE(k, 2);
    }
  }
}

TEST(TreeBuilder, DoubleTreeLeavesAreMostlyInteriorInTheOther) {
  for (int n : {4, 8, 16, 7, 15}) {
    const auto trees = doubleBinaryTreeParents(n);
    std::vector<int> kids0(n, 0), kids1(n, 0);
    for (int i = 0; i < n; ++i) {
      if (trees[0][i] >= 0) ++kids0[trees[0][i]];
      if (trees[1][i] >= 0) ++kids1[trees[1][i]];
    }
    int interiorBoth = 0;
    for (int i = 0; i < n; ++i) interiorBoth += kids0[i] > 0 && kids1[i] > 0;
    EXPECT_LE(interiorBoth, 1) << "n=" << n;
  }
}

TEST(TreeBuilder, ChainsHangOffNodeHeads) {
  // Node 0: ranks 2,0,1 (2 is the entry GPU); node 1: ranks 3,5,4.
  const auto trees = buildTreesFromChains({{2, 0, 1}, {3, 5, 4}}, 6);
  ASSERT_EQ(trees.size(), 2u);
  for (const Tree& t : trees) {
    expectTree(t.parent);
    EXPECT_EQ(t.parent[0], 2);
    EXPECT_EQ(t.parent[1], 0);
    EXPECT_EQ(t.parent[5], 3);
    EXPECT_EQ(t.parent[4], 5);
    // Exactly one head hangs off the other.
    EXPECT_TRUE((t.parent[2] == 3 && t.parent[3] == -1) || (t.parent[3] == 2 && t.parent[2] == -1));
    for (int r = 0; r < 6; ++r)
      for (int c : t.children[r]) EXPECT_EQ(t.parent[c], r);
  }
  EXPECT_NE(trees[0].parent[2], trees[1].parent[2]);  // the two trees have different roots
}

}  // namespace
}  // namespace tccl::db
