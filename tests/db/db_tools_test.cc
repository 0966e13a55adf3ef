#include <gtest/gtest.h>

#include "db/db_report.h"
#include "db_test_util.h"

namespace tccl::db {
namespace {

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

TEST(DbTools, ShowListsRingsWithHopKindsAndBandwidth) {
  const std::string s = showDatabase(testing::sampleDatabase());
  EXPECT_TRUE(contains(s, "node type 'box4'")) << s;
  EXPECT_TRUE(contains(s, "intra {0,1,2,3}: 20.00 GB/s, 2 channel(s)")) << s;
  EXPECT_TRUE(contains(s, "GPU1 -[bounce@numa1(kernel->copy_engine)]-> GPU2")) << s;
  EXPECT_TRUE(contains(s, "-[net0/gdr]-> NIC")) << s;
  EXPECT_TRUE(contains(showDatabase(testing::sampleDatabase(), "nope"), "database version 1"));
  EXPECT_FALSE(contains(showDatabase(testing::sampleDatabase(), "nope"), "box4'"));
}

TEST(DbTools, ExplainSaysWhichPlanAndWhy) {
  bool ok = false;
  std::string s = explainJob(testing::sampleDatabase(), 2, 4, {}, &ok);
  EXPECT_TRUE(ok) << s;
  EXPECT_TRUE(contains(s, "bottleneck 11.00 GB/s")) << s;
  EXPECT_TRUE(contains(s, "channel 0: 0 -[p2p_write/kernel]-> 1")) << s;
  s = explainJob(testing::sampleDatabase(), 1, 3, {}, &ok);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(contains(s, "no ring for GPU subset [0,1,2]")) << s;
  s = explainJob(testing::sampleDatabase(), 2, 2, {"missing"}, &ok);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(contains(s, "no node type named 'missing'")) << s;
}

TEST(DbTools, DrawShowsNumaGpusNicsAndRings) {
  const std::string dot = drawNodeDot(testing::sampleNode());
  EXPECT_TRUE(contains(dot, "digraph \"box4\"")) << dot;
  EXPECT_TRUE(contains(dot, "subgraph cluster_numa1")) << dot;
  EXPECT_TRUE(contains(dot, "gpu3 [label=\"GPU3\\n0000:3e:00.0")) << dot;
  EXPECT_TRUE(contains(dot, "nic0 [label=\"NIC0\\neth0\"")) << dot;
  // Channel 0's bounce GPU1 -> NUMA1 memory -> GPU2.
  EXPECT_TRUE(contains(dot, "gpu1 -> mem1 [color=\"#1f77b4\", label=\"ch0: bounce@numa1")) << dot;
  EXPECT_TRUE(contains(dot, "mem1 -> gpu2 [color=\"#1f77b4\"]")) << dot;
  const std::string pair = drawNodeDot(testing::sampleNode(), {0, 1});
  EXPECT_TRUE(contains(pair, "gpu1 -> gpu0")) << pair;
  EXPECT_FALSE(contains(pair, "gpu0 -> mem")) << pair;
  EXPECT_FALSE(contains(pair, "gpu1 -> mem")) << pair;
}

TEST(DbTools, MergeCombinesAndRejectsDuplicateNames) {
  Database a = testing::sampleDatabase();
  Database b = testing::sampleDatabase();
  b.nodes[0].name = "other";
  b.provenance.profiler = "cuda";
  LoadResult m = mergeDatabases({a, b}, {"a.json", "b.json"});
  ASSERT_TRUE(m.db) << m.error;
  EXPECT_EQ(m.db->nodes.size(), 2u);
  EXPECT_EQ(m.db->provenance.profiler, "cuda,model");
  m = mergeDatabases({a, a}, {"a.json", "again.json"});
  EXPECT_FALSE(m.db);
  EXPECT_EQ(m.error,
            "duplicate node type name 'box4' in a.json and again.json (rename one with "
            "tccl-db import --name)");
}

}  // namespace
}  // namespace tccl::db
