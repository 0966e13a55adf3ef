#include <gtest/gtest.h>

#include "common/shipped_topology.h"
#include "db/db_json.h"
#include "db/db_report.h"
#include "model/model_profiler.h"
#include "model/node_plan.h"
#include "search/database_builder.h"
#include "search/exhaustive.h"
#include "search/path_search.h"
#include "search/symmetry.h"
#include "tiny_topology.h"

namespace tccl::pathfinder {
namespace {

topo::Topology load(const std::string& name) {
  return tccl::testing::loadShippedTopology(name);
}

topo::Topology tiny(const std::string& rules) {
  return *topo::parseTopology(testing::tinyTopologyJson(rules, R"({"host_bounce": 0.5})")).topology;
}

constexpr const char* kTinyRules =
    R"([{"rule": "p2p_across_numa", "factor": 0.3},
        {"rule": "bounce_buffers_on_one_numa", "min_transfers": 2, "factor": 0.6},
        {"rule": "copy_engine_into_host", "factor": 0.7}])";

// enumerateCandidates' bothEngines: every hop with kernels and with copy engines, or kernels only.
constexpr bool kBothEngines = true;
constexpr bool kKernelsOnly = false;

TEST(Candidates, EveryHopKindOnEveryNumaNode) {
  topo::Topology t = tiny("[]");
  Candidates all = enumerateCandidates(t, kBothEngines);
  EXPECT_EQ(all.intra.size(), 4u + 2 * 4);  // p2p write/read x 2 engines; 2 NUMA x 2 x 2 engines
  EXPECT_EQ(all.entry.size(), 1u + 2 * 2);  // GPU-direct; staged on 2 NUMA nodes x 2 engines
  Candidates kernels = enumerateCandidates(t, kKernelsOnly);
  EXPECT_EQ(kernels.intra.size(), 2u + 2);
}

TEST(PathSearch, RingsAndChainsReachTheExhaustiveOptimum) {
  topo::Topology t = tiny(kTinyRules);
  ModelProfiler profiler(t);
  Candidates all = enumerateCandidates(t, kBothEngines);
  PathSearch search(profiler, t, enumerateCandidates(t, profiler.distinguishesEngines()),
                    {.multiChannel = false});
  for (std::vector<int> gpus : {std::vector{0, 1}, std::vector{0, 2}, std::vector{0, 1, 2}}) {
    PathResult s = search.ring(gpus), e = exhaustiveRing(profiler, all, gpus);
    EXPECT_NEAR(s.gbps, e.gbps, 1e-9);
    EXPECT_TRUE(s.proven);
    // The reported rate is the rate of the reported ring.
    std::vector<Transfer> ring;
    const db::Channel& ch = s.channels[0];
    for (size_t i = 0; i < ch.order.size(); ++i)
      ring.push_back({ch.hops[i], ch.order[i], ch.order[(i + 1) % ch.order.size()]});
    EXPECT_NEAR(profiler.bottleneck(ring), s.gbps, 1e-9);
  }
  for (const Hop& entry : all.entry)
    for (const Hop& exit : all.exit) {
      std::vector<int> gpus{0, 1, 2};
      PathResult s = search.chain(gpus, entry, exit),
                 e = exhaustiveChain(profiler, all, gpus, entry, exit);
      EXPECT_NEAR(s.gbps, e.gbps, 1e-9) << describeHop(entry) << " " << describeHop(exit);
    }
}

// NCCL's ring is one of the candidates and its duplicated channels move no more than one, so
// the optimum is never below NCCL's plan in the model (whether it is above depends on numbers).
TEST(PathSearch, FourGpuShippedTopologiesMatchExhaustiveAndNeverLoseToNccl) {
  for (const char* name : {"amd-v100", "amd-3090", "intel-v100"}) {
    topo::Topology t = load(name);
    ModelProfiler profiler(t);
    Candidates kernels = enumerateCandidates(t, kKernelsOnly);
    PathSearch search(profiler, t, kernels, {.multiChannel = false});
    std::vector<int> gpus{0, 1, 2, 3};
    PathResult s = search.ring(gpus);
    PathResult e = exhaustiveRing(profiler, kernels, gpus);
    EXPECT_NEAR(s.gbps, e.gbps, 1e-9) << name;
    for (nccl::Release r : {nccl::Release::k2_18, nccl::Release::k2_28}) {
      const NodePlan baseline = baselineNodePlan(nccl::buildNodeBaseline(t, gpus, 1, r, {}));
      EXPECT_GE(s.gbps * (1 + 1e-9), planGbps(profiler, baseline)) << name;
    }
  }
}

TEST(Symmetry, EquivalentSubsetsShareAKeyAndRelabel) {
  topo::Topology t = load("amd-v100");  // GPUs 1 and 2 are twins on NUMA 1
  std::vector<int> a{0, 1}, b{0, 2}, c{0, 3};
  Relabelling ra = canonicalRelabelling(t, a, nullptr, nullptr);
  Relabelling rb = canonicalRelabelling(t, b, nullptr, nullptr);
  Relabelling rc = canonicalRelabelling(t, c, nullptr, nullptr);
  EXPECT_EQ(ra.key, rb.key);
  EXPECT_NE(ra.key, rc.key);
  // Mapping a's problem onto b's through the canonical labels sends GPU 1 to GPU 2.
  EXPECT_EQ(rb.gpuAt[ra.gpuPos[1]], 2);
  EXPECT_EQ(rb.gpuAt[ra.gpuPos[0]], 0);
  Hop gdr{.kind = HopKind::kNet, .nic = 0, .gpuDirect = true};
  Hop staged0{.kind = HopKind::kNet, .numa = 0, .nic = 0};
  EXPECT_NE(canonicalRelabelling(t, a, &gdr, &gdr).key,
            canonicalRelabelling(t, a, &gdr, &staged0).key);
}

TEST(DatabaseBuilder, CoversEverySubsetAndSymmetricResultsAreValid) {
  topo::Topology t = load("amd-v100");
  ModelProfiler profiler(t);
  BuildReport report;
  BuildOptions options;
  options.jobs = 2;
  db::Database d = buildDatabase(t, profiler, options, &report);
  ASSERT_EQ(d.nodes.size(), 1u);
  const db::NodeType& node = d.nodes[0];
  EXPECT_EQ(node.intra.size(), 11u);  // subsets of 4 GPUs with >= 2 members
  Candidates kernels = enumerateCandidates(t, kKernelsOnly);
  EXPECT_EQ(node.inter.size(), 15u * kernels.entry.size() * kernels.exit.size());
  EXPECT_LT(report.intraSolved, report.intraProblems);  // symmetry saved work
  for (const db::IntraEntry& e : node.intra) {
    // Every ring, also those relabelled from a symmetric twin, scores what the entry says.
    std::vector<Transfer> all;
    for (const db::Channel& ch : e.channels) {
      std::vector<int> sorted = ch.order;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(sorted, e.gpus);
      for (size_t i = 0; i < ch.order.size(); ++i)
        all.push_back({ch.hops[i], ch.order[i], ch.order[(i + 1) % ch.order.size()]});
    }
    EXPECT_NEAR(e.gbps, e.channels.size() * profiler.bottleneck(all), 1e-9);
  }
  // What -o writes is a database the runtime's loader accepts.
  db::LoadResult reread = db::parseDatabase(db::toJsonText(d));
  ASSERT_TRUE(reread.db) << reread.error;
  EXPECT_EQ(reread.db->nodes[0].inter.size(), node.inter.size());
}

}  // namespace
}  // namespace tccl::pathfinder

namespace tccl::pathfinder {
namespace {

// A search stopped by --max-nodes is named: its entry says so in the database, through JSON,
// and `tccl-db show` prints it.
TEST(DatabaseBuilder, EntriesOfStoppedSearchesAreMarkedUnproven) {
  topo::Topology t = tccl::testing::loadShippedTopology("intel-v100");
  ModelProfiler profiler(t);
  BuildOptions options;
  options.search.maxNodes = 2;
  options.search.multiChannel = false;
  BuildReport report;
  db::Database d = buildDatabase(t, profiler, options, &report);
  size_t unproven = 0;
  for (const db::IntraEntry& e : d.nodes[0].intra) unproven += !e.proven;
  for (const db::InterEntry& e : d.nodes[0].inter) unproven += !e.proven;
  EXPECT_GT(report.unproven, 0u);
  EXPECT_GE(unproven, report.unproven);  // symmetric twins of a stopped search are unproven too
  db::LoadResult reread = db::parseDatabase(db::toJsonText(d));
  ASSERT_TRUE(reread.db) << reread.error;
  size_t reread_unproven = 0;
  for (const db::IntraEntry& e : reread.db->nodes[0].intra) reread_unproven += !e.proven;
  for (const db::InterEntry& e : reread.db->nodes[0].inter) reread_unproven += !e.proven;
  EXPECT_EQ(reread_unproven, unproven);
  EXPECT_NE(db::showDatabase(d, "").find("UNPROVEN"), std::string::npos);
  // Without the limit every entry is proven.
  db::Database full = buildDatabase(t, profiler, BuildOptions{}, nullptr);
  for (const db::IntraEntry& e : full.nodes[0].intra) EXPECT_TRUE(e.proven);
  EXPECT_EQ(db::showDatabase(full, "").find("UNPROVEN"), std::string::npos);
}

}  // namespace
}  // namespace tccl::pathfinder
