// parseCommConfig against the ncclConfig_t layouts of released headers: what it reads, what it
// defaults, what it refuses.
#include "core/comm_config.h"

#include <gtest/gtest.h>

#include <string>

#include "base/error.h"
#include "common/nccl_config_layouts.h"

using namespace tccl;
using namespace tccl::test;

namespace {

TEST(CommConfig, NullGivesNcclDefaults) {
  ncclConfig_t c;
  ASSERT_EQ(parseCommConfig(nullptr, &c), ncclSuccess);
  EXPECT_EQ(c.blocking, 1);
  EXPECT_EQ(c.cgaClusterSize, 4);
  EXPECT_EQ(c.minCTAs, 1);
  EXPECT_EQ(c.maxCTAs, 64);
  EXPECT_EQ(c.splitShare, 0);
  EXPECT_EQ(c.commName, nullptr);
  EXPECT_EQ(c.trafficClass, kUndefInt);
}

TEST(CommConfig, Layout219ReadsItsFieldsAndIgnoresItsPadding) {
  GuardedConfig<NcclConfig_2_19> user(NCCL_VERSION(2, 19, 3));
  user->blocking = 0;
  user->minCTAs = 2;
  user->maxCTAs = 8;
  user->splitShare = 1;
  // Bytes 44..47 are padding in 2.19 and trafficClass in 2.25+: GuardedConfig filled them
  // with garbage, which must not be taken for a traffic class.
  ncclConfig_t c;
  ASSERT_EQ(parseCommConfig(user.asNccl(), &c), ncclSuccess) << lastThreadError();
  EXPECT_EQ(c.blocking, 0);
  EXPECT_EQ(c.minCTAs, 2);
  EXPECT_EQ(c.maxCTAs, 8);
  EXPECT_EQ(c.splitShare, 1);
  EXPECT_EQ(c.trafficClass, kUndefInt);
  EXPECT_EQ(c.commName, nullptr);
  EXPECT_EQ(c.nvlinkCentricSched, 0);
  EXPECT_EQ(c.size, sizeof(ncclConfig_t));
}

TEST(CommConfig, Layout227ReadsCommNameAndDefaultsWhatCameLater) {
  GuardedConfig<NcclConfig_2_27> user(NCCL_VERSION(2, 27, 3));
  user->commName = "layout-2.27";
  user->nvlsCTAs = 3;
  user->trafficClass = 5;
  ncclConfig_t c;
  ASSERT_EQ(parseCommConfig(user.asNccl(), &c), ncclSuccess) << lastThreadError();
  EXPECT_STREQ(c.commName, "layout-2.27");
  EXPECT_EQ(c.nvlsCTAs, 3);
  EXPECT_EQ(c.trafficClass, 5);
  EXPECT_EQ(c.nChannelsPerNetPeer, kUndefInt);  // past the caller's 72 bytes
  EXPECT_EQ(c.blocking, 1);
}

TEST(CommConfig, Layout228AndNewerReadTheirFields) {
  GuardedConfig<NcclConfig_2_28> user228(NCCL_VERSION(2, 28, 9));
  user228->nChannelsPerNetPeer = 4;
  user228->nvlinkCentricSched = 1;
  ncclConfig_t c;
  ASSERT_EQ(parseCommConfig(user228.asNccl(), &c), ncclSuccess) << lastThreadError();
  EXPECT_EQ(c.nChannelsPerNetPeer, 4);
  EXPECT_EQ(c.nvlinkCentricSched, 1);
  // A newer caller's extra fields are beyond this library's struct: ignored, never copied.
  GuardedConfig<NcclConfig_2_30> user230(NCCL_VERSION(2, 30, 7));
  user230->blocking = 0;
  user230->maxP2pPeers = 12345;
  ASSERT_EQ(parseCommConfig(user230.asNccl(), &c), ncclSuccess) << lastThreadError();
  EXPECT_EQ(c.blocking, 0);
  EXPECT_EQ(c.size, sizeof(ncclConfig_t));
}

TEST(CommConfig, FieldsNewerThanTheCallersVersionKeepDefaults) {
  // A 2.28-sized struct that says it is 2.27: the 2.28 fields are not trusted (as in NCCL).
  GuardedConfig<NcclConfig_2_28> user(NCCL_VERSION(2, 27, 3));
  user->nChannelsPerNetPeer = 4;
  ncclConfig_t c;
  ASSERT_EQ(parseCommConfig(user.asNccl(), &c), ncclSuccess) << lastThreadError();
  EXPECT_EQ(c.nChannelsPerNetPeer, kUndefInt);
  // Older than 2.14 had no blocking field.
  GuardedConfig<NcclConfig_2_19> ancient(NCCL_VERSION(2, 13, 4));
  ancient->blocking = 0;
  ASSERT_EQ(parseCommConfig(ancient.asNccl(), &c), ncclSuccess) << lastThreadError();
  EXPECT_EQ(c.blocking, 1);
}

TEST(CommConfig, OldestLayoutIsAccepted) {
  GuardedConfig<NcclConfig_2_19> user(NCCL_VERSION(2, 14, 3));
  user->size = kOldestConfigSize;
  user->blocking = 0;
  ncclConfig_t c;
  ASSERT_EQ(parseCommConfig(user.asNccl(), &c), ncclSuccess) << lastThreadError();
  EXPECT_EQ(c.blocking, 0);
  EXPECT_EQ(c.minCTAs, 1);  // beyond 24 bytes: default
}

TEST(CommConfig, BadMagicAndTooSmallSizeAreRefused) {
  ncclConfig_t c;
  GuardedConfig<NcclConfig_2_28> user(NCCL_VERSION(2, 28, 9));
  user->magic = 0;
  EXPECT_EQ(parseCommConfig(user.asNccl(), &c), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("magic"), std::string::npos) << lastThreadError();
  user->magic = kNcclConfigMagic;
  user->size = kOldestConfigSize - 1;
  EXPECT_EQ(parseCommConfig(user.asNccl(), &c), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("size=23"), std::string::npos) << lastThreadError();
}

TEST(CommConfig, InvalidValuesNameTheField) {
  struct Case {
    const char* field;
    void (*set)(NcclConfig_2_28*);
  };
  const Case cases[] = {
      {"blocking=2", [](NcclConfig_2_28* c) { c->blocking = 2; }},
      {"cgaClusterSize=-1", [](NcclConfig_2_28* c) { c->cgaClusterSize = -1; }},
      {"minCTAs=0", [](NcclConfig_2_28* c) { c->minCTAs = 0; }},
      {"minCTAs=9 is larger than maxCTAs=8",
       [](NcclConfig_2_28* c) {
         c->minCTAs = 9;
         c->maxCTAs = 8;
       }},
      {"splitShare=3", [](NcclConfig_2_28* c) { c->splitShare = 3; }},
      {"collnetEnable=2", [](NcclConfig_2_28* c) { c->collnetEnable = 2; }},
      {"CTAPolicy=7", [](NcclConfig_2_28* c) { c->CTAPolicy = 7; }},
      {"shrinkShare=-4", [](NcclConfig_2_28* c) { c->shrinkShare = -4; }},
      {"nvlsCTAs=0", [](NcclConfig_2_28* c) { c->nvlsCTAs = 0; }},
      {"nChannelsPerNetPeer=65", [](NcclConfig_2_28* c) { c->nChannelsPerNetPeer = 65; }},
      {"nvlinkCentricSched=2", [](NcclConfig_2_28* c) { c->nvlinkCentricSched = 2; }},
  };
  for (const Case& k : cases) {
    GuardedConfig<NcclConfig_2_28> user(NCCL_VERSION(2, 28, 9));
    k.set(user.get());
    ncclConfig_t c;
    EXPECT_EQ(parseCommConfig(user.asNccl(), &c), ncclInvalidArgument) << k.field;
    EXPECT_NE(lastThreadError().find(k.field), std::string::npos)
        << k.field << ": " << lastThreadError();
  }
}

}  // namespace
