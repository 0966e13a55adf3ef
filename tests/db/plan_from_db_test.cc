#include <gtest/gtest.h>

#include <set>

#include "db/db_json.h"
#include "db/plan_from_db.h"
#include "db_test_util.h"

namespace tccl::db {
namespace {

using testing::net;
using testing::p2pWrite;
using testing::ring;

// ranksPerNode[n] lists (gpuIndex, nodeType) of node n's ranks, ranks numbered node by node.
struct Job {
  std::vector<RankInfo> ranks;
  JobShape shape;
};
Job makeJob(const std::vector<std::vector<std::pair<int, int>>>& ranksPerNode) {
  Job job;
  for (size_t n = 0; n < ranksPerNode.size(); ++n) {
    job.shape.nodeRanks.emplace_back();
    for (auto [gpu, type] : ranksPerNode[n]) {
      RankInfo info;
      info.rank = job.shape.nRanks++;
      info.hostHash = 100 + n;
      info.gpuIndex = gpu;
      info.dbNodeType = type;
      job.shape.nodeOf.push_back(static_cast<int>(n));
      job.shape.localRankOf.push_back(static_cast<int>(job.shape.nodeRanks[n].size()));
      job.shape.nodeRanks[n].push_back(info.rank);
      job.ranks.push_back(info);
    }
  }
  return job;
}

void expectValidRing(const Ring& r, int nRanks) {
  ASSERT_EQ(static_cast<int>(r.order.size()), nRanks);
  ASSERT_EQ(r.hops.size(), r.order.size());
  EXPECT_EQ(std::set<int>(r.order.begin(), r.order.end()).size(), r.order.size());
}

TEST(PlanFromDb, SingleNodeUsesIntraRingsMappedToRanks) {
  const Database db = testing::sampleDatabase();
  // Rank r drives GPU 3-r.
  Job job = makeJob({{{3, 0}, {2, 0}, {1, 0}, {0, 0}}});
  DbPlan p = buildPlanFromDatabase(db, "db:test[box4]", job.ranks, job.shape);
  ASSERT_TRUE(p.plan) << p.whyNot;
  EXPECT_EQ(p.plan->source, "db:test[box4]");
  ASSERT_EQ(p.plan->rings.size(), 2u);
  // Channel 0 visits GPUs 0,1,2,3 = ranks 3,2,1,0.
  EXPECT_EQ(p.plan->rings[0].order, (std::vector<int>{3, 2, 1, 0}));
  EXPECT_EQ(p.plan->rings[0].hops, db.nodes[0].intra[0].channels[0].hops);
  EXPECT_EQ(p.plan->rings[1].order, (std::vector<int>{3, 0, 1, 2}));
  for (const Ring& r : p.plan->rings) expectValidRing(r, 4);
  ASSERT_EQ(p.plan->trees.size(), 1u);
  EXPECT_EQ(p.plan->trees[0].parent, (std::vector<int>{1, 2, 3, -1}));
}

TEST(PlanFromDb, SubsetAndMissingSubset) {
  const Database db = testing::sampleDatabase();
  Job pair = makeJob({{{0, 0}, {1, 0}}});
  DbPlan p = buildPlanFromDatabase(db, "x", pair.ranks, pair.shape);
  ASSERT_TRUE(p.plan) << p.whyNot;
  EXPECT_EQ(p.plan->rings[0].order, (std::vector<int>{0, 1}));
  Job other = makeJob({{{0, 0}, {2, 0}}});
  p = buildPlanFromDatabase(db, "x", other.ranks, other.shape);
  EXPECT_FALSE(p.plan);
  EXPECT_EQ(p.whyNot, "node type 'box4' has no ring for GPU subset [0,2]");
}

TEST(PlanFromDb, UnmatchedNodeOrBadGpuGivesWhyNot) {
  const Database db = testing::sampleDatabase();
  Job job = makeJob({{{0, 0}, {1, 0}}, {{0, -1}, {1, -1}}});
  DbPlan p = buildPlanFromDatabase(db, "x", job.ranks, job.shape);
  EXPECT_FALSE(p.plan);
  EXPECT_NE(p.whyNot.find("node 1"), std::string::npos) << p.whyNot;
  EXPECT_NE(p.whyNot.find("matches no node type"), std::string::npos) << p.whyNot;
  Job dup = makeJob({{{1, 0}, {1, 0}}});
  p = buildPlanFromDatabase(db, "x", dup.ranks, dup.shape);
  EXPECT_NE(p.whyNot.find("share GPU 1"), std::string::npos) << p.whyNot;
  Job big = makeJob({{{0, 0}, {7, 0}}});
  p = buildPlanFromDatabase(db, "x", big.ranks, big.shape);
  EXPECT_NE(p.whyNot.find("uses GPU 7"), std::string::npos) << p.whyNot;
}

TEST(PlanFromDb, TwoHomogeneousNodesPickBestChainAndCloseRing) {
  const Database db = testing::sampleDatabase();
  Job job = makeJob({{{0, 0}, {1, 0}, {2, 0}, {3, 0}}, {{0, 0}, {1, 0}, {2, 0}, {3, 0}}});
  DbPlan p = buildPlanFromDatabase(db, "x", job.ranks, job.shape);
  ASSERT_TRUE(p.plan) << p.whyNot;
  ASSERT_EQ(p.plan->rings.size(), 1u);
  const Ring& r = p.plan->rings[0];
  expectValidRing(r, 8);
  // The GDR chain (11 GB/s) beats the staged one (9): GPUs 0,1,2,3 on both nodes.
  EXPECT_EQ(r.order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(r.hops[3], net({.gdr = true, .peerGdr = true}));
  EXPECT_EQ(r.hops[7], net({.gdr = true, .peerGdr = true}));
  EXPECT_EQ(r.hops[0], p2pWrite());
  ASSERT_EQ(p.plan->trees.size(), 2u);
}

// Node type "a" is good at staged->GDR conversion, "b" at GDR->staged; mixing them wins.
Database heterogeneousDb() {
  Database db;
  db.provenance.profiler = "model";
  NodeType a = testing::sampleNode("a", "CPU A");
  NodeType b = testing::sampleNode("b", "CPU B");
  a.intra.clear();
  b.intra.clear();
  auto chainEntry = [](std::vector<int> order, Hop entry, Hop exit, double gbps) {
    InterEntry e;
    e.gpus = {0, 1};
    e.entry = entry;
    e.exit = exit;
    e.channels = {ring(order, {p2pWrite()}, gbps)};
    e.gbps = gbps;
    return e;
  };
  // a: receives staged from a GDR sender (entry gdr=false, peer=true), sends GDR to a staged
  //    receiver (exit gdr=true, peer=false), 20 GB/s; or all-GDR, 5 GB/s.
  a.inter = {chainEntry({1, 0}, net({.gdr = true, .peerGdr = true}),
                        net({.gdr = true, .peerGdr = true}), 5),
             chainEntry({0, 1}, net({.gdr = false, .peerGdr = true}),
                        net({.gdr = true, .peerGdr = false}), 20)};
  // b: the mirror image, 15 GB/s; or all-GDR at 30.
  b.inter = {chainEntry({0, 1}, net({.gdr = true, .peerGdr = true}),
                        net({.gdr = true, .peerGdr = true}), 30),
             chainEntry({1, 0}, net({.gdr = false, .peerGdr = true}),
                        net({.gdr = true, .peerGdr = false}), 15)};
  db.nodes = {a, b};
  return db;
}

TEST(PlanFromDb, HeterogeneousNodesMeetOnHopCodes) {
  const Database db = heterogeneousDb();
  ASSERT_TRUE(parseDatabase(toJsonText(db)).db) << parseDatabase(toJsonText(db)).error;
  Job job = makeJob({{{0, 0}, {1, 0}}, {{0, 1}, {1, 1}}});
  DbPlan p = buildPlanFromDatabase(db, "x", job.ranks, job.shape);
  ASSERT_TRUE(p.plan) << p.whyNot;
  const Ring& r = p.plan->rings[0];
  expectValidRing(r, 4);
  // min(20, 15) = 15 beats min(5, 30) = 5: a runs 0->1, b runs 1->0 (ranks 3, 2).
  EXPECT_EQ(r.order, (std::vector<int>{0, 1, 3, 2}));
  EXPECT_EQ(r.hops[1], net({.gdr = true, .peerGdr = false}));
  EXPECT_EQ(r.hops[3], net({.gdr = true, .peerGdr = false}));
  // Node i's exit and node i+1's entry describe the same transfer.
  const Hop& aExit = db.nodes[0].inter[1].exit;
  const Hop& bEntry = db.nodes[1].inter[1].entry;
  EXPECT_EQ(aExit.gpuDirect, bEntry.peerGpuDirect);
  EXPECT_EQ(aExit.peerGpuDirect, bEntry.gpuDirect);
  // Trees: intra chains hang off the entry GPU.
  for (const Tree& t : p.plan->trees) {
    EXPECT_EQ(t.parent[1], 0);
    EXPECT_EQ(t.parent[2], 3);
  }
}

TEST(PlanFromDb, NodesWhoseHopsNeverMeet) {
  Database db = heterogeneousDb();
  db.nodes[0].inter.erase(db.nodes[0].inter.begin());      // a only converts staged->GDR
  db.nodes[1].inter.erase(db.nodes[1].inter.begin() + 1);  // b only does GDR->GDR
  Job job = makeJob({{{0, 0}, {1, 0}}, {{0, 1}, {1, 1}}});
  DbPlan p = buildPlanFromDatabase(db, "x", job.ranks, job.shape);
  EXPECT_FALSE(p.plan);
  EXPECT_NE(p.whyNot.find("never meet"), std::string::npos) << p.whyNot;
}

TEST(PlanFromDb, ChannelsCycleOverNodesWithFewerChains) {
  Database db = testing::sampleDatabase();
  InterEntry& gdr = db.nodes[0].inter[0];
  gdr.channels.push_back(
      ring({0, 2, 1, 3}, {testing::bounce(1), testing::bounce(0), testing::bounce(1)}, 8));
  NodeType other = testing::sampleNode("other", "CPU B");
  db.nodes.push_back(other);
  ASSERT_TRUE(parseDatabase(toJsonText(db)).db) << parseDatabase(toJsonText(db)).error;
  Job job = makeJob({{{0, 0}, {1, 0}, {2, 0}, {3, 0}}, {{0, 1}, {1, 1}, {2, 1}, {3, 1}}});
  DbPlan p = buildPlanFromDatabase(db, "x", job.ranks, job.shape);
  ASSERT_TRUE(p.plan) << p.whyNot;
  ASSERT_EQ(p.plan->rings.size(), 2u);
  EXPECT_EQ(p.plan->rings[1].order, (std::vector<int>{0, 2, 1, 3, 4, 5, 6, 7}));
  for (const Ring& r : p.plan->rings) expectValidRing(r, 8);
}

TEST(PlanFromDb, OneGpuPerNode) {
  Database db = testing::sampleDatabase();
  InterEntry single;
  single.gpus = {2};
  single.entry = net({.gdr = true, .peerGdr = true});
  single.exit = net({.gdr = true, .peerGdr = true});
  single.channels = {ring({2}, {}, 12)};
  single.gbps = 12;
  db.nodes[0].inter.push_back(single);
  ASSERT_TRUE(parseDatabase(toJsonText(db)).db) << parseDatabase(toJsonText(db)).error;
  Job job = makeJob({{{2, 0}}, {{2, 0}}, {{2, 0}}});
  DbPlan p = buildPlanFromDatabase(db, "x", job.ranks, job.shape);
  ASSERT_TRUE(p.plan) << p.whyNot;
  EXPECT_EQ(p.plan->rings[0].order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(p.plan->rings[0].hops, std::vector<Hop>(3, net({.gdr = true, .peerGdr = true})));
}

TEST(NodeMatch, ExactForcedAndCountOnly) {
  Database db = testing::sampleDatabase();
  NodeType imported = testing::sampleNode("tccl-xml", "");
  for (auto& g : imported.signature.gpus) g = {"", "", -1};
  imported.signature.nics.clear();
  db.nodes.push_back(imported);
  std::string why;
  NodeSignature node = db.nodes[0].signature;
  EXPECT_EQ(matchNodeType(db, node, "", &why), 0);
  EXPECT_EQ(matchNodeType(db, node, "tccl-xml", &why), 1);
  EXPECT_EQ(matchNodeType(db, node, "nope", &why), -1);
  EXPECT_NE(why.find("TCCL_DB_NODE=nope"), std::string::npos) << why;
  node.gpus[2].busId = "0000:99:00.0";  // other machine, same counts: only the import matches
  EXPECT_EQ(matchNodeType(db, node, "", &why), 1);
  node.gpus.pop_back();
  EXPECT_EQ(matchNodeType(db, node, "", &why), -1);
  EXPECT_NE(why.find("no node type matches"), std::string::npos) << why;
  EXPECT_NE(why.find("4 GPUs vs 3"), std::string::npos) << why;
}

}  // namespace
}  // namespace tccl::db
