// tccl-sim's two plans and its sensitivity analysis.
#include <gtest/gtest.h>

#include "common/shipped_topology.h"
#include "db/plan_from_db.h"
#include "sim/job_plan.h"
#include "sim/sensitivity.h"
#include "tiny_topology.h"

namespace tccl::pathfinder {
namespace {

// The ends of a net hop: GPU-direct on this side, on the other, and the staging NUMA node.
struct NetEnds {
  bool gdr = false;
  bool peerGdr = false;
  int numa = 0;
};
Hop net(NetEnds ends) {
  return {.kind = HopKind::kNet,
          .numa = ends.gdr ? -1 : ends.numa,
          .nic = 0,
          .gpuDirect = ends.gdr,
          .peerGpuDirect = ends.peerGdr};
}

// Equal chains: tccl-sim takes what the runtime (and tccl-db explain) takes, every time.
TEST(JobPlan, TiesBetweenEqualChainsBreakAsTheRuntimeBreaksThem) {
  db::NodeType node;
  node.name = "pair";
  node.signature.gpus.resize(2);
  const Hop p2p{.kind = HopKind::kP2pWrite};
  // A: as fast, but its exit (staged, peer staged) never meets its own entry (peer GPU-direct).
  node.inter.push_back({{0, 1},
                        net({.gdr = false, .peerGdr = true}),
                        net({.gdr = false, .peerGdr = false}),
                        {{{0, 1}, {p2p}, 10}},
                        10});
  // B and C close a ring of identical nodes; B comes first.
  node.inter.push_back({{0, 1},
                        net({.gdr = false, .peerGdr = false}),
                        net({.gdr = false, .peerGdr = false}),
                        {{{0, 1}, {p2p}, 10}},
                        10});
  node.inter.push_back({{0, 1},
                        net({.gdr = false, .peerGdr = false}),
                        net({.gdr = false, .peerGdr = false, .numa = 1}),
                        {{{1, 0}, {p2p}, 10}},
                        10});
  JobSpec job;
  job.nodes = 2;
  std::string why;
  std::optional<std::vector<NodePlan>> plans = databaseJobPlans(node, 2, job, &why);
  ASSERT_TRUE(plans) << why;
  ASSERT_EQ(plans->size(), 1u);
  EXPECT_EQ(plans->front().entry, node.inter[1].entry);
  EXPECT_EQ(plans->front().exit, node.inter[1].exit);
  EXPECT_EQ(plans->front().channels[0].order, (std::vector<int>{0, 1}));

  db::Database d;
  d.nodes.push_back(node);
  std::vector<RankInfo> ranks(4);
  JobShape shape;
  shape.nRanks = 4;
  shape.nodeOf = {0, 0, 1, 1};
  shape.localRankOf = {0, 1, 0, 1};
  shape.nodeRanks = {{0, 1}, {2, 3}};
  for (int r = 0; r < 4; ++r) {
    ranks[r].rank = r;
    ranks[r].gpuIndex = r % 2;
    ranks[r].dbNodeType = 0;
  }
  db::DbPlan runtime = db::buildPlanFromDatabase(d, "x", ranks, shape);
  ASSERT_TRUE(runtime.plan) << runtime.whyNot;
  EXPECT_EQ(runtime.plan->rings[0].order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(runtime.plan->rings[0].hops[1], node.inter[1].exit);
}

// Without a database, tccl-sim's plan is the one the search puts in a database.
TEST(JobPlan, SearchedPlanNeverLosesToTheBaselineOnShippedNodes) {
  for (const char* name : {"amd-v100", "amd-3090", "intel-v100"})
    for (int nodes : {1, 2})
      for (nccl::Release r : {nccl::Release::k2_18, nccl::Release::k2_28}) {
        JobSpec job;
        job.nodes = nodes;
        job.release = r;
        JobComparison c = compareJob(tccl::testing::loadShippedTopology(name), job);
        ASSERT_TRUE(c.unsupported.empty()) << c.unsupported;
        EXPECT_GE(c.ratio, 1 - 1e-9) << name << " nodes " << nodes;
      }
}

// A made-up factor that decides the winner is reported; a measured one is not moved.
TEST(Sensitivity, ReportsTheIllustrativeNumbersThatDecideTheWinner) {
  // GPU 2 sits on the other NUMA node: P2P to and from it (x0.6 by a made-up rule) beats a
  // host bounce (x0.5) now, and loses to it when the factor moves down by 30%.
  topo::LoadedTopology loaded = topo::parseTopology(
      testing::tinyTopologyJson(R"([{"rule": "p2p_across_numa", "factor": 0.6}])",
                                R"({"host_bounce": 0.5})"),
      "tiny");
  ASSERT_TRUE(loaded.topology) << loaded.error;
  topo::Topology t = *loaded.topology;
  t.labels.push_back(
      {.measured = false, .values = {"congestion_rules[0].factor"}, .text = "made up"});
  for (topo::TopologyValue& v : topo::topologyValues(t))
    if (v.name != "congestion_rules[0].factor")
      t.labels.push_back({.measured = true, .values = {v.name}, .text = "measured"});
  JobSpec job;
  SensitivityReport r = sensitivity(t, job, 2);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].values, (std::vector<std::string>{"congestion_rules[0].factor"}));
  ASSERT_EQ(r.rows[0].cases.size(), 2u);
  EXPECT_TRUE(r.rows[0].cases[0].applied);
  EXPECT_EQ(r.rows[0].cases[0].change, "-30%");
  EXPECT_EQ(r.rows[0].cases[1].change, "+30%");
  EXPECT_TRUE(r.rows[0].cases[0].planChanged);
  EXPECT_FALSE(r.rows[0].cases[1].planChanged);
  EXPECT_LT(r.rows[0].cases[0].ratio, r.ratio);
  EXPECT_GT(r.rows[0].cases[1].ratio, r.ratio);
  EXPECT_TRUE(r.rows[0].flagged);
  EXPECT_LE(r.lowest, r.ratio);
  EXPECT_GE(r.highest, r.ratio);
  // Unlabelled values are moved too, and say so.
  topo::Topology bare = *loaded.topology;
  SensitivityReport all = sensitivity(bare, job, 2);
  EXPECT_GT(all.rows.size(), 10u);
  for (const SensitivityRow& row : all.rows) EXPECT_EQ(row.label, "unlabelled");
}

}  // namespace
}  // namespace tccl::pathfinder
