// Every expected rate below is worked out by hand from tiny_topology.h.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/bandwidth_model.h"
#include "model/model_profiler.h"
#include "tiny_topology.h"

namespace tccl::pathfinder {
namespace {

using testing::tinyTopologyJson;

BandwidthModel tinyModel(const std::string& rules = "[]", const std::string& eff = "{}") {
  topo::LoadedTopology loaded = topo::parseTopology(tinyTopologyJson(rules, eff), "tiny");
  EXPECT_TRUE(loaded.topology) << loaded.error;
  return BandwidthModel(*loaded.topology);
}

Transfer p2pWrite(int a, int b) {
  return {{.kind = HopKind::kP2pWrite}, a, b};
}
Transfer p2pRead(int a, int b) {
  return {{.kind = HopKind::kP2pRead}, a, b};
}
Transfer bounce(int a, int b, int numa, Engine writer = Engine::kKernel) {
  return {{.kind = HopKind::kHostBounce, .engine = writer, .numa = numa}, a, b};
}

std::vector<std::string> names(const BandwidthModel& m, const std::vector<int>& route) {
  std::vector<std::string> out;
  for (int r : route) out.push_back(m.resources()[r].name);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(BandwidthModel, P2pUnderOneSwitchTurnsAroundInTheSwitch) {
  BandwidthModel m = tinyModel();
  EXPECT_EQ(names(m, m.route(p2pWrite(0, 1))), (std::vector<std::string>{"gpu0.up", "gpu1.down"}));
  EXPECT_DOUBLE_EQ(m.bottleneck(std::vector{p2pWrite(0, 1)}), 10);
}

TEST(BandwidthModel, P2pAcrossNumaCrossesUplinksAndFabric) {
  BandwidthModel m = tinyModel();
  EXPECT_EQ(names(m, m.route(p2pWrite(0, 2))),
            (std::vector<std::string>{"gpu0.up", "gpu2.down", "numa0.fabric_out", "numa1.fabric_in",
                                      "pcie rp0.up", "pcie rp1.down", "pcie sw0.up"}));
  EXPECT_DOUBLE_EQ(m.bottleneck(std::vector{p2pWrite(0, 2)}), 10);
}

TEST(BandwidthModel, BounceCrossesItsNumaMemoryTwice) {
  BandwidthModel m = tinyModel();
  std::vector<int> r = m.route(bounce(0, 1, 0));
  std::vector<std::string> n = names(m, r);
  EXPECT_EQ(std::count(n.begin(), n.end(), "numa0.memory"), 2);
  // Via NUMA 0: memory 12 carries the write and the read: 12 / 2 = 6.
  EXPECT_DOUBLE_EQ(m.bottleneck(std::vector{bounce(0, 1, 0)}), 6);
  // Via NUMA 1: memory 30 / 2 = 15, but the GPU links (10) and fabric (10) bound it.
  EXPECT_DOUBLE_EQ(m.bottleneck(std::vector{bounce(0, 1, 1)}), 10);
}

TEST(BandwidthModel, MaxMinFairSharing) {
  BandwidthModel m = tinyModel();
  // 0->2 and 1->2 share GPU 2's downlink (10): 5 each. 2->0 shares nothing with them: 10.
  std::vector<double> r = m.rates(std::vector{p2pWrite(0, 2), p2pWrite(1, 2), p2pWrite(2, 0)});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_NEAR(r[0], 5, 1e-9);
  EXPECT_NEAR(r[1], 5, 1e-9);
  EXPECT_NEAR(r[2], 10, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{p2pWrite(0, 2), p2pWrite(1, 2), p2pWrite(2, 0)}), 5, 1e-9);
  // 0->1 and 1->0 both through NUMA 0: its memory (12) carries 4 crossings: 3 each.
  r = m.rates(std::vector{bounce(0, 1, 0), bounce(1, 0, 0)});
  EXPECT_NEAR(r[0], 3, 1e-9);
  EXPECT_NEAR(r[1], 3, 1e-9);
}

TEST(BandwidthModel, EfficiencyScalesTheTransferAndItsLoad) {
  BandwidthModel m = tinyModel("[]", R"({"host_bounce": 0.5})");
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 1, 1)}), 5, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{p2pWrite(0, 1)}), 10, 1e-9);
}

TEST(BandwidthModel, NetEntryIsBoundByTheWire) {
  BandwidthModel m = tinyModel();
  Transfer gdr{{.kind = HopKind::kNet, .nic = 0, .gpuDirect = true}, -1, 2};
  EXPECT_NEAR(m.bottleneck(std::vector{gdr}), 5, 1e-9);
  Transfer staged{{.kind = HopKind::kNet, .numa = 0, .nic = 0}, 0, -1};
  EXPECT_NEAR(m.bottleneck(std::vector{staged}), 5, 1e-9);
}

TEST(CongestionRules, P2pAcrossNuma) {
  BandwidthModel m = tinyModel(R"([{"rule": "p2p_across_numa", "factor": 0.5}])");
  EXPECT_NEAR(m.bottleneck(std::vector{p2pWrite(0, 2)}), 5, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{p2pRead(0, 2)}), 5, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{p2pWrite(0, 1)}), 10, 1e-9);  // same NUMA node
}

TEST(CongestionRules, HostReadOnOwnNumaWithRemoteP2pWrite) {
  BandwidthModel plain = tinyModel();
  BandwidthModel m = tinyModel(R"([{"rule": "host_read_with_remote_p2p_write", "factor": 0.5}])");
  // GPU 0 reads a bounce buffer on its own NUMA node 0 (memory 12 / 2 = 6) while it writes P2P
  // to GPU 2 on NUMA 1 (10); the two share no resource.
  std::vector<Transfer> set{bounce(2, 0, 0), p2pWrite(0, 2)};
  std::vector<double> r = plain.rates(set);
  EXPECT_NEAR(r[0], 6, 1e-9);
  EXPECT_NEAR(r[1], 10, 1e-9);
  r = m.rates(set);
  // The rule halves what the links carry (10 -> 5), not what memory delivers (still 6).
  EXPECT_NEAR(r[0], 5, 1e-9);
  EXPECT_NEAR(r[1], 5, 1e-9);
  // Not the pattern: a P2P read, a write to the same NUMA node, or each transfer alone.
  r = m.rates(std::vector{bounce(2, 0, 0), p2pRead(0, 2)});
  EXPECT_NEAR(r[0], 6, 1e-9);
  r = m.rates(std::vector{bounce(2, 0, 0), p2pWrite(0, 1)});
  EXPECT_NEAR(r[0], 6, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(2, 0, 0)}), 6, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{p2pWrite(0, 2)}), 10, 1e-9);
}

TEST(CongestionRules, AllBounceBuffersOnOneNuma) {
  BandwidthModel plain = tinyModel();
  BandwidthModel m =
      tinyModel(R"([{"rule": "bounce_buffers_on_one_numa", "min_transfers": 2, "factor": 0.5}])");
  // Both directions through NUMA 1: each fabric direction carries both bounces: 10 / 2 = 5.
  std::vector<Transfer> set{bounce(0, 1, 1), bounce(1, 0, 1)};
  EXPECT_NEAR(plain.bottleneck(set), 5, 1e-9);
  EXPECT_NEAR(m.bottleneck(set), 2.5, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 1, 1)}), 10, 1e-9);  // one buffer: no penalty
  // Buffers on different NUMA nodes: no penalty (NUMA 0 memory 6, fabric 10).
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 1, 1), bounce(1, 0, 0)}), 6, 1e-9);
}

TEST(CongestionRules, CopyEngineIntoHostMemory) {
  BandwidthModel m =
      tinyModel(R"([{"rule": "copy_engine_into_host", "factor": 0.5, "remote_only": true}])");
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 1, 1, Engine::kCopyEngine)}), 5, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 1, 1, Engine::kKernel)}), 10, 1e-9);
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 1, 0, Engine::kCopyEngine)}), 6, 1e-9);  // local
}

TEST(CongestionRules, RemoteHostAccess) {
  BandwidthModel m = tinyModel(
      R"([{"rule": "remote_host_access", "read_factor": 0.5, "write_factor": 0.8, "scope": "numa"}])");
  // 0 -> 2 through NUMA 1: GPU 0 writes remotely (x0.8), GPU 2 reads locally: 10 x 0.8.
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 2, 1)}), 8, 1e-9);
  // Through NUMA 0: GPU 2 reads remotely (x0.5): its links carry 10 x 0.5 = 5; memory still
  // delivers 12 / 2 = 6.
  EXPECT_NEAR(m.bottleneck(std::vector{bounce(0, 2, 0)}), 5, 1e-9);
}

// A factor stretches the time a transfer holds each link; memory counts bytes, which a slow
// transfer does not multiply (docs/bandwidth-model.md, "Factors").
TEST(BandwidthModel, FactorsLoadLinksByTimeAndMemoryByBytes) {
  BandwidthModel plain = tinyModel();
  BandwidthModel slow = tinyModel(R"([{"rule": "remote_host_access", "read_factor": 1,
                                       "write_factor": 0.5, "scope": "numa"}])");
  // GPU 2 (NUMA 1) -> GPU 1 through NUMA 0's memory (12, crossed twice): memory-bound at 6.
  EXPECT_NEAR(plain.bottleneck(std::vector{bounce(2, 1, 0)}), 6, 1e-9);
  // GPU 2 writes remotely (x0.5): its links (10) give 5. Were memory loaded by time too, it
  // would give 12 / 2 x 0.5 = 3.
  EXPECT_NEAR(slow.bottleneck(std::vector{bounce(2, 1, 0)}), 5, 1e-9);
  const auto& res = slow.resources();
  for (size_t r = 0; r < res.size(); ++r)
    EXPECT_EQ(res[r].countsBytes, res[r].name.find(".memory") != std::string::npos) << res[r].name;
  EXPECT_NEAR(BandwidthModel::loadPerGbps({"numa0.memory", 12, true}, 0.25), 1, 1e-12);
  EXPECT_NEAR(BandwidthModel::loadPerGbps({"gpu0.up", 10, false}, 0.25), 4, 1e-12);
}

// A NIC is a device on a NUMA node like a GPU: GPU-direct RDMA across NUMA nodes pays
// p2p_across_numa, and a NIC staging through another NUMA node's memory pays
// remote_host_access (the tiny node's NIC is on NUMA 1, GPU 0 on NUMA 0, GPU 2 on NUMA 1).
TEST(CongestionRules, NicHopsPayTheCrossNumaRulesLikeGpus) {
  BandwidthModel across = tinyModel(R"([{"rule": "p2p_across_numa", "factor": 0.5}])");
  Transfer remoteGdr{{.kind = HopKind::kNet, .nic = 0, .gpuDirect = true}, -1, 0};
  Transfer localGdr{{.kind = HopKind::kNet, .nic = 0, .gpuDirect = true}, -1, 2};
  Transfer gdrOut{{.kind = HopKind::kNet, .nic = 0, .gpuDirect = true}, 0, -1};
  EXPECT_NEAR(across.bottleneck(std::vector{remoteGdr}), 2.5, 1e-9);  // wire 5 x 0.5
  EXPECT_NEAR(across.bottleneck(std::vector{gdrOut}), 2.5, 1e-9);
  EXPECT_NEAR(across.bottleneck(std::vector{localGdr}), 5, 1e-9);
  BandwidthModel remote = tinyModel(
      R"([{"rule": "remote_host_access", "read_factor": 0.5, "write_factor": 0.5, "scope": "numa"}])");
  // The NIC writes into NUMA 0 (remote for it); GPU 0 reads there (local).
  Transfer stagedIn{{.kind = HopKind::kNet, .numa = 0, .nic = 0}, -1, 0};
  EXPECT_NEAR(remote.bottleneck(std::vector{stagedIn}), 2.5, 1e-9);
  // Staged on NUMA 1: the NIC is local, GPU 0 reads remotely: the same factor, once.
  Transfer stagedLocal{{.kind = HopKind::kNet, .numa = 1, .nic = 0}, -1, 0};
  EXPECT_NEAR(remote.bottleneck(std::vector{stagedLocal}), 2.5, 1e-9);
  Transfer allLocal{{.kind = HopKind::kNet, .numa = 1, .nic = 0}, -1, 2};
  EXPECT_NEAR(remote.bottleneck(std::vector{allLocal}), 5, 1e-9);
}

TEST(BandwidthModel, RejectsImpossibleTransfers) {
  BandwidthModel m = tinyModel();
  EXPECT_THROW(m.route(p2pWrite(0, 5)), std::invalid_argument);
  EXPECT_THROW(m.route(bounce(0, 1, 9)), std::invalid_argument);
  EXPECT_THROW(m.route(p2pWrite(1, 1)), std::invalid_argument);
}

TEST(ModelProfiler, MeasureIsMaxMinAndBottleneckIsItsMinimum) {
  topo::LoadedTopology loaded = topo::parseTopology(tinyTopologyJson(), "tiny");
  ModelProfiler profiler(*loaded.topology);
  std::vector<Transfer> set{p2pWrite(0, 2), p2pWrite(1, 2), p2pWrite(2, 0)};
  std::vector<double> r = profiler.measure(set);
  EXPECT_NEAR(*std::min_element(r.begin(), r.end()), profiler.bottleneck(set), 1e-9);
  EXPECT_NEAR(profiler.Profiler::bottleneck(set), profiler.bottleneck(set), 1e-9);
}

}  // namespace
}  // namespace tccl::pathfinder
