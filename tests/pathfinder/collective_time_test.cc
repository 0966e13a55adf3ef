#include <gtest/gtest.h>

#include "model/collective_time.h"

namespace tccl::pathfinder {
namespace {

TEST(CollectiveTime, BusBandwidthFactorsAsNcclTests) {
  EXPECT_DOUBLE_EQ(busBwFactor(Collective::kAllReduce, 4), 1.5);
  EXPECT_DOUBLE_EQ(busBwFactor(Collective::kAllGather, 4), 0.75);
  EXPECT_DOUBLE_EQ(busBwFactor(Collective::kReduceScatter, 8), 0.875);
  EXPECT_DOUBLE_EQ(busBwFactor(Collective::kBroadcast, 8), 1);
  EXPECT_DOUBLE_EQ(busBwFactor(Collective::kReduce, 3), 1);
  EXPECT_EQ(parseCollective("reducescatter"), Collective::kReduceScatter);
  EXPECT_FALSE(parseCollective("alltoall"));
}

TEST(CollectiveTime, RingTimeIsWireBytesOverRatePlusSteps) {
  // allreduce, 4 ranks, 1e9 bytes at 10 GB/s: 1.5e9 / 1e10 = 0.15 s, plus 6 steps x 5 us.
  CollectiveTiming t = ringCollectiveTime(Collective::kAllReduce, 4, 1e9, 10, 5);
  EXPECT_NEAR(t.seconds, 0.15 + 30e-6, 1e-12);
  EXPECT_NEAR(t.algbwGbps, 1e9 / t.seconds / 1e9, 1e-9);
  EXPECT_NEAR(t.busbwGbps, t.algbwGbps * 1.5, 1e-9);
  // Without latency busbw is the ring rate.
  EXPECT_NEAR(ringCollectiveTime(Collective::kAllGather, 8, 1e9, 12, 0).busbwGbps, 12, 1e-9);
  EXPECT_EQ(ringCollectiveTime(Collective::kBroadcast, 1, 1e9, 12, 0).seconds, 0);
}

}  // namespace
}  // namespace tccl::pathfinder
