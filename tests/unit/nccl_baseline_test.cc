// The NCCL baseline against NCCL itself. The expected rings, channel counts, transports and
// GPU-direct choices below are what NCCL 2.18.3's and 2.28.9's own topology code
// (graph/paths.cc, graph/search.cc) printed for the same nodes, through
// tools/nccl_baseline_check (docs/nccl-baseline.md, "Checked against NCCL").
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <numeric>

#include "common/shipped_topology.h"
#include "plan/baseline_plan.h"
#include "plan/nccl_baseline.h"
#include "topo/topology.h"

namespace tccl::nccl {
namespace {

topo::Topology load(const std::string& name) {
  return testing::loadShippedTopology(name);
}

std::vector<int> allGpus(const topo::Topology& t) {
  std::vector<int> g(t.gpus.size());
  std::iota(g.begin(), g.end(), 0);
  return g;
}

std::string baseline(const std::string& topo, Release r, int nodes, const Knobs& knobs = {},
                     std::vector<int> gpus = {}) {
  topo::Topology t = load(topo);
  if (gpus.empty()) gpus = allGpus(t);
  return describeBaseline(buildNodeBaseline(t, gpus, nodes, r, knobs));
}

TEST(NcclBaseline, ReleaseNames) {
  EXPECT_EQ(parseRelease("nccl-2.18"), Release::k2_18);
  EXPECT_EQ(parseRelease("nccl-2.28"), Release::k2_28);
  EXPECT_FALSE(parseRelease("nccl-2.20"));
  EXPECT_EQ(releaseName(Release::k2_18), "nccl-2.18");
}

// 2.18: P2P everywhere on AMD hosts (p2pLevel SYS), PXB on Intel; SHM buffers on the receiver.
TEST(NcclBaseline, MatchesNccl218OnOneNode) {
  EXPECT_EQ(baseline("amd-v100", Release::k2_18, 1), "2x 0 -p2p-> 1 -p2p-> 2 -p2p-> 3 -p2p-> 0");
  // Gen4: the search fits two 12 GB/s rings in a 24 GB/s link; connect.cc doubles them.
  EXPECT_EQ(baseline("amd-3090", Release::k2_18, 1), "4x 0 -p2p-> 1 -p2p-> 2 -p2p-> 3 -p2p-> 0");
  EXPECT_EQ(baseline("intel-v100", Release::k2_18, 1),
            "2x 0 -shm@numa0-> 1 -shm@numa2-> 2 -shm@numa2-> 3 -shm@numa0-> 0");
  EXPECT_EQ(baseline("rtx4090-8x-2s4n", Release::k2_18, 1),
            "4x 0 -shm@numa0-> 1 -shm@numa1-> 2 -shm@numa1-> 3 -shm@numa2-> 4 -shm@numa2-> 5 "
            "-shm@numa3-> 6 -shm@numa3-> 7 -shm@numa0-> 0");
}

// 2.28: P2P only up to PXB (one PCIe switch tree), so GPUs on separate root ports use SHM.
TEST(NcclBaseline, MatchesNccl228OnOneNode) {
  EXPECT_EQ(baseline("amd-v100", Release::k2_28, 1),
            "2x 0 -shm@numa1-> 1 -shm@numa1-> 2 -shm@numa0-> 3 -shm@numa3-> 0");
  EXPECT_EQ(baseline("amd-3090", Release::k2_28, 1),
            "2x 0 -shm@numa1-> 1 -shm@numa1-> 2 -shm@numa0-> 3 -shm@numa3-> 0");
  EXPECT_EQ(baseline("switch-8x-2s", Release::k2_28, 1),
            "2x 0 -p2p-> 1 -shm@numa0-> 2 -p2p-> 3 -shm@numa1-> 4 -p2p-> 5 -shm@numa1-> 6 "
            "-p2p-> 7 -shm@numa0-> 0");
}

TEST(NcclBaseline, Nccl228AllowsP2pBetweenTheTwoGpusOfAnAmdHost) {
  EXPECT_EQ(baseline("amd-v100", Release::k2_28, 1, {}, {0, 3}), "2x 0 -p2p-> 3 -p2p-> 0");
  EXPECT_EQ(baseline("amd-v100", Release::k2_28, 1, {}, {0, 1, 3}),
            "2x 0 -shm@numa1-> 1 -shm@numa0-> 3 -shm@numa3-> 0");
  // Not on Intel.
  EXPECT_EQ(baseline("intel-v100", Release::k2_28, 1, {}, {0, 2}),
            "2x 0 -shm@numa2-> 2 -shm@numa0-> 0");
}

// Two nodes: chains from the NIC through the GPUs back to the NIC. The search may start at the
// GPUs nearest to the NIC, and Intel gets a second, reversed ring.
TEST(NcclBaseline, MatchesNcclOnTwoNodes) {
  EXPECT_EQ(baseline("amd-v100", Release::k2_18, 2),
            "2x [net0/staged@numa3] 0 -p2p-> 1 -p2p-> 2 -p2p-> 3 [net0/staged@numa0]");
  EXPECT_EQ(baseline("rtx4090-8x-2s4n", Release::k2_28, 2),
            "2x [net0/staged@numa1] 2 -shm@numa1-> 3 -shm@numa0-> 1 -shm@numa0-> 0 -shm@numa3-> 7 "
            "-shm@numa3-> 6 -shm@numa2-> 5 -shm@numa2-> 4 [net0/staged@numa2]");
  const std::string forward =
      "1x [net0/staged@numa0] 0 -shm@numa0-> 1 -shm@numa2-> 2 -shm@numa2-> 3 [net0/staged@numa2]";
  const std::string backward =
      "1x [net0/staged@numa2] 3 -shm@numa2-> 2 -shm@numa0-> 1 -shm@numa0-> 0 [net0/staged@numa0]";
  for (Release r : {Release::k2_18, Release::k2_28})
    EXPECT_EQ(baseline("intel-v100", r, 2),
              forward + " | " + backward + " | " + forward + " | " + backward);
}

// GPU-direct RDMA within PXB only; sends (the NIC reading GPU memory) need NVLink in 2.18, and
// only pre-Ampere GPUs are held back from it in 2.28.
TEST(NcclBaseline, GpuDirectRdmaByDistanceAndRelease) {
  EXPECT_EQ(baseline("switch-8x-2s", Release::k2_18, 2),
            "2x [net0/gdr] 0 -p2p-> 1 -p2p-> 2 -p2p-> 3 -p2p-> 4 -p2p-> 5 -p2p-> 6 -p2p-> 7 "
            "[net0/staged@numa1]");
  topo::Topology t = load("switch-8x-2s");
  NodeBaseline b = buildNodeBaseline(t, std::vector<int>{0, 1}, 2, Release::k2_28, {});
  ASSERT_FALSE(b.channels.empty());
  EXPECT_TRUE(b.channels[0].entry.gpuDirect);
  EXPECT_TRUE(b.channels[0].exit.gpuDirect);
  EXPECT_TRUE(b.channels[0].entry.peerGpuDirect);
  Knobs far;
  far.netGdrLevel = PathType::kSys;
  b = buildNodeBaseline(t, allGpus(t), 2, Release::k2_28, far);
  EXPECT_TRUE(b.channels[0].exit.gpuDirect);  // GPU 7, across the sockets
  Knobs noRead;
  noRead.netGdrRead = 0;
  b = buildNodeBaseline(t, std::vector<int>{0, 1}, 2, Release::k2_28, noRead);
  EXPECT_FALSE(b.channels[0].exit.gpuDirect);
  EXPECT_EQ(b.channels[0].exit.numa, 0);
}

TEST(NcclBaseline, HonoursTheUsersKnobs) {
  Knobs sys;
  sys.p2pLevel = PathType::kSys;
  EXPECT_EQ(baseline("amd-v100", Release::k2_28, 1, sys),
            "2x 0 -p2p-> 1 -p2p-> 2 -p2p-> 3 -p2p-> 0");
  Knobs off;
  off.p2pLevel = PathType::kLoc;
  EXPECT_EQ(baseline("switch-8x-2s", Release::k2_18, 1, off, {0, 1}),
            "2x 0 -shm@numa0-> 1 -shm@numa0-> 0");
  Knobs few;
  few.maxChannels = 1;
  EXPECT_EQ(baseline("amd-v100", Release::k2_18, 1, few),
            "1x 0 -p2p-> 1 -p2p-> 2 -p2p-> 3 -p2p-> 0");
  Knobs many;
  many.minChannels = 8;
  topo::Topology t = load("amd-v100");
  EXPECT_EQ(buildNodeBaseline(t, allGpus(t), 1, Release::k2_18, many).channels.size(), 8u);
  Knobs noShm;
  noShm.shmDisable = true;
  NodeBaseline b = buildNodeBaseline(t, allGpus(t), 1, Release::k2_28, noShm);
  EXPECT_TRUE(b.channels.empty());
  EXPECT_NE(b.unsupported.find("network transport"), std::string::npos) << b.unsupported;
}

TEST(NcclBaseline, ReadsKnobsLikeNcclAndRejectsWhatItWouldIgnore) {
  std::map<std::string, std::string> env;
  auto lookup = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  Knobs k;
  std::string error;
  env = {{"NCCL_P2P_LEVEL", "SYS"}, {"NCCL_MIN_NCHANNELS", "4"}, {"NCCL_NET_GDR_LEVEL", "2"}};
  ASSERT_TRUE(readKnobs(lookup, Release::k2_28, &k, &error)) << error;
  EXPECT_EQ(k.p2pLevel, PathType::kSys);
  EXPECT_EQ(k.netGdrLevel, PathType::kPxb);  // the old numbering
  EXPECT_EQ(k.minChannels, 4);
  EXPECT_EQ(describeKnobs(k), "NCCL_P2P_LEVEL=SYS NCCL_NET_GDR_LEVEL=PXB NCCL_MIN_NCHANNELS=4");
  env = {{"NCCL_P2P_DISABLE", "1"}, {"NCCL_P2P_LEVEL", "SYS"}};
  ASSERT_TRUE(readKnobs(lookup, Release::k2_28, &k, &error));
  EXPECT_EQ(k.p2pLevel, PathType::kLoc);  // DISABLE wins, as in ncclGetLevel
  env = {{"NCCL_P2P_LEVEL", "sys"}};
  EXPECT_FALSE(readKnobs(lookup, Release::k2_28, &k, &error));
  EXPECT_NE(error.find("NCCL_P2P_LEVEL=sys"), std::string::npos) << error;
  env = {{"NCCL_P2P_LEVEL", "P2C"}};
  EXPECT_FALSE(readKnobs(lookup, Release::k2_18, &k, &error));  // 2.18 has no P2C
  env = {{"NCCL_MAX_NCHANNELS", "four"}};
  EXPECT_FALSE(readKnobs(lookup, Release::k2_28, &k, &error));
  EXPECT_NE(error.find("NCCL_MAX_NCHANNELS"), std::string::npos);
}

TEST(NcclBaseline, GuessesCpuAndGpuFromModelNames) {
  topo::Topology t = load("intel-v100");
  EXPECT_EQ(cpuKindOf(t).vendor, CpuVendor::kIntel);
  t.cpuModel = "Intel(R) Xeon(R) Platinum 8480+ (Sapphire Rapids)";
  EXPECT_EQ(cpuKindOf(t).intelGeneration, 2);
  t.cpuModel = "AMD EPYC 7713 64-Core Processor";
  EXPECT_EQ(cpuKindOf(t).vendor, CpuVendor::kAmd);
  EXPECT_EQ(computeCapabilityOf("Tesla V100-PCIE-16GB"), 70);
  EXPECT_EQ(computeCapabilityOf("NVIDIA GeForce RTX 4090"), 89);
  EXPECT_FLOAT_EQ(nominalPcieGbps(12.5), 12);
  EXPECT_FLOAT_EQ(nominalPcieGbps(25), 24);
  EXPECT_FLOAT_EQ(nominalNetGbps(12), 12.5f);
}

}  // namespace
}  // namespace tccl::nccl

namespace tccl {
namespace {

// Every rank publishes its place in NCCL's plan of its node; all ranks join the same rings.
TEST(BaselinePlan, JoinsSlotsNodeAfterNodeAndRejectsOnesThatDoNotFit) {
  topo::Topology t = tccl::testing::loadShippedTopology("intel-v100");
  const std::vector<int> pair{0, 2};
  nccl::NodeBaseline b = nccl::buildNodeBaseline(t, pair, 2, nccl::Release::k2_28, {});
  ASSERT_FALSE(b.channels.empty());
  JobShape shape;
  shape.nRanks = 4;
  shape.nodeOf = {0, 0, 1, 1};
  shape.localRankOf = {0, 1, 0, 1};
  shape.nodeRanks = {{0, 1}, {2, 3}};
  std::vector<BaselineSlot> slots;
  for (int r = 0; r < 4; ++r) slots.push_back(baselineSlotOf(b, pair[r % 2]));
  std::string why;
  std::optional<Plan> plan = buildBaselinePlan(shape, slots, &why);
  ASSERT_TRUE(plan) << why;
  ASSERT_EQ(plan->rings.size(), b.channels.size());
  for (size_t c = 0; c < b.channels.size(); ++c) {
    const nccl::ChannelBaseline& ch = b.channels[c];
    // Node 0's chain, then node 1's; the last GPU of each sends through the NIC.
    const int first = ch.order[0] == 0 ? 0 : 1, last = 1 - first;
    EXPECT_EQ(plan->rings[c].order, (std::vector<int>{first, last, 2 + first, 2 + last}));
    EXPECT_EQ(plan->rings[c].hops[0], ch.hops[0]);
    EXPECT_EQ(plan->rings[c].hops[1], ch.exit);
  }
  std::vector<BaselineSlot> missing = slots;
  missing[3] = BaselineSlot{};
  EXPECT_FALSE(buildBaselinePlan(shape, missing, &why));
  EXPECT_NE(why.find("rank 3"), std::string::npos) << why;
  std::vector<BaselineSlot> clash = slots;
  clash[1].position[0] = clash[0].position[0];
  EXPECT_FALSE(buildBaselinePlan(shape, clash, &why));
  EXPECT_NE(why.find("disagree"), std::string::npos) << why;
  std::vector<BaselineSlot> garbage = slots;
  garbage[2].send[0].kind = static_cast<HopKind>(77);
  EXPECT_FALSE(buildBaselinePlan(shape, garbage, &why));
  EXPECT_NE(why.find("malformed"), std::string::npos) << why;
}

}  // namespace
}  // namespace tccl
