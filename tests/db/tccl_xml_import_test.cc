#include <gtest/gtest.h>

#include "db/db_json.h"
#include "db/plan_from_db.h"
#include "db/tccl_xml_import.h"

namespace tccl::db {
namespace {

const std::string kGood = std::string(TCCL_DB_TEST_DIR) + "/good/tccl-merged-4gpu.xml";

Hop hop(HopKind k, Engine e = Engine::kKernel) {
  return Hop{.kind = k, .engine = e};
}
Hop bounce(int numa, Engine w, Engine r) {
  return Hop{.kind = HopKind::kHostBounce, .engine = w, .readEngine = r, .numa = numa};
}

TEST(TcclXmlImport, ConvertsTransfersToHops) {
  LoadResult r = importTcclXmlFile(kGood);
  ASSERT_TRUE(r.db) << r.error;
  const Database& db = *r.db;
  ASSERT_EQ(db.nodes.size(), 1u);
  const NodeType& n = db.nodes[0];
  EXPECT_EQ(n.name, "tccl-xml");
  EXPECT_EQ(n.signature.cpuModel, "");
  EXPECT_EQ(n.signature.numaCount, 2);
  ASSERT_EQ(n.signature.gpus.size(), 4u);
  EXPECT_EQ(n.signature.gpus[0].busId, "");
  EXPECT_EQ(db.provenance.profiler, "tccl-xml");
  EXPECT_EQ(db.provenance.topology, "tccl-merged-4gpu.xml");

  ASSERT_EQ(n.intra.size(), 2u);
  const IntraEntry& pair = n.intra[0];  // mask 3 sorts first
  EXPECT_EQ(pair.gpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(pair.gbps, 22);  // the faster of the two
  EXPECT_EQ(pair.channels[0].hops, std::vector<Hop>(2, hop(HopKind::kP2pWrite)));

  const IntraEntry& all = n.intra[1];
  EXPECT_EQ(all.gpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(all.gbps, 20.5);
  ASSERT_EQ(all.channels.size(), 1u);
  // The leading CPUMEM read pairs with the trailing write: the ring wraps through NUMA 0.
  EXPECT_EQ(all.channels[0].order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(
      all.channels[0].hops,
      (std::vector<Hop>{hop(HopKind::kP2pWrite), bounce(1, Engine::kKernel, Engine::kCopyEngine),
                        hop(HopKind::kP2pRead), bounce(0, Engine::kCopyEngine, Engine::kKernel)}));

  ASSERT_EQ(n.inter.size(), 2u);
  const InterEntry* gdr = nullptr;
  const InterEntry* staged = nullptr;
  for (const InterEntry& e : n.inter) (e.entry.gpuDirect ? gdr : staged) = &e;
  ASSERT_TRUE(gdr && staged);
  EXPECT_EQ(gdr->channels[0].order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(gdr->entry.peerGpuDirect && gdr->exit.gpuDirect && gdr->exit.peerGpuDirect);
  EXPECT_EQ(gdr->gbps, 11);
  EXPECT_EQ(staged->channels[0].order, (std::vector<int>{2, 3, 1, 0}));
  EXPECT_EQ(staged->channels[0].hops,
            (std::vector<Hop>{hop(HopKind::kP2pWrite), bounce(1, Engine::kKernel, Engine::kKernel),
                              hop(HopKind::kP2pRead)}));
  EXPECT_EQ(staged->entry.numa, 1);
  EXPECT_EQ(staged->entry.readEngine, Engine::kCopyEngine);
  EXPECT_FALSE(staged->entry.gpuDirect || staged->entry.peerGpuDirect);
  EXPECT_EQ(staged->exit.numa, 0);
  EXPECT_EQ(staged->exit.engine, Engine::kCopyEngine);

  // The import is an ordinary database: it round-trips through JSON.
  LoadResult again = parseDatabase(toJsonText(db));
  EXPECT_TRUE(again.db) << again.error;
}

TEST(TcclXmlImport, MatchesAnyNodeWithSameCounts) {
  LoadResult r = importTcclXmlFile(kGood);
  ASSERT_TRUE(r.db) << r.error;
  NodeSignature node;
  node.cpuModel = "AMD EPYC 7502";
  node.numaCount = 2;
  for (int i = 0; i < 4; ++i)
    node.gpus.push_back({"0000:0" + std::to_string(i) + ":00.0", "V100", i / 2});
  std::string why;
  EXPECT_EQ(matchNodeType(*r.db, node, "", &why), 0) << why;
  node.numaCount = 4;
  EXPECT_EQ(matchNodeType(*r.db, node, "", &why), -1);
}

TEST(TcclXmlImport, CustomNodeName) {
  LoadResult r = importTcclXmlFile(kGood, "amd-v100");
  ASSERT_TRUE(r.db) << r.error;
  EXPECT_EQ(r.db->nodes[0].name, "amd-v100");
}

TEST(TcclXmlImport, TwoNodePlanFromImport) {
  LoadResult r = importTcclXmlFile(kGood);
  ASSERT_TRUE(r.db) << r.error;
  std::vector<RankInfo> ranks(8);
  JobShape shape;
  shape.nRanks = 8;
  shape.nodeRanks = {{0, 1, 2, 3}, {4, 5, 6, 7}};
  for (int i = 0; i < 8; ++i) {
    ranks[i].rank = i;
    ranks[i].gpuIndex = i % 4;
    ranks[i].dbNodeType = 0;
    shape.nodeOf.push_back(i / 4);
    shape.localRankOf.push_back(i % 4);
  }
  DbPlan p = buildPlanFromDatabase(*r.db, "xml:test", ranks, shape);
  ASSERT_TRUE(p.plan) << p.whyNot;
  EXPECT_EQ(p.plan->rings[0].order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(p.plan->rings[0].hops[3].kind, HopKind::kNet);
}

TEST(TcclXmlImport, SingleGpuChainAndLoneSubset) {
  const char* xml = R"(<root><metadata num_gpus="2" num_numa="1"/>
    <intra><subset gpus="1"><transfers gbps="5"/></subset></intra>
    <inter><subset gpus="2"><transfers gbps="3" head_type="GPU_CPU_INTER" head_src_idx="1"
      head_dst_idx="0" tail_type="CPU_GPU_INTER" tail_src_idx="0" tail_dst_idx="1">
      <transfer type="GPU_READ_CPUMEM_KERNEL" src_idx="0" dst_idx="1"/>
      <transfer type="GPU_WRITE_CPUMEM_MEMCPY" src_idx="1" dst_idx="0"/>
    </transfers></subset></inter></root>)";
  LoadResult r = importTcclXml(xml);
  ASSERT_TRUE(r.db) << r.error;
  EXPECT_TRUE(r.db->nodes[0].intra.empty());
  ASSERT_EQ(r.db->nodes[0].inter.size(), 1u);
  const InterEntry& e = r.db->nodes[0].inter[0];
  EXPECT_EQ(e.channels[0].order, std::vector<int>{1});
  EXPECT_TRUE(e.channels[0].hops.empty());
  EXPECT_FALSE(e.entry.gpuDirect);
  EXPECT_TRUE(e.entry.peerGpuDirect);
  EXPECT_FALSE(e.exit.gpuDirect);
  EXPECT_TRUE(e.exit.peerGpuDirect);
}

}  // namespace
}  // namespace tccl::db
