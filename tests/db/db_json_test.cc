#include <gtest/gtest.h>

#include <cmath>

#include "db/db_json.h"
#include "db/db_validate.h"
#include "db_test_util.h"
#include "plan/plan.h"

namespace tccl::db {
namespace {

TEST(DbJson, RoundTripGivesEqualDatabase) {
  const Database db = testing::sampleDatabase();
  const std::string text = toJsonText(db);
  LoadResult r = parseDatabase(text);
  ASSERT_TRUE(r.db) << r.error;
  ASSERT_EQ(r.db->nodes.size(), 1u);
  const NodeType& a = db.nodes[0];
  const NodeType& b = r.db->nodes[0];
  EXPECT_EQ(b.name, a.name);
  EXPECT_EQ(b.signature, a.signature);
  ASSERT_EQ(b.intra.size(), a.intra.size());
  for (size_t i = 0; i < a.intra.size(); ++i) {
    EXPECT_EQ(b.intra[i].gpus, a.intra[i].gpus);
    EXPECT_EQ(b.intra[i].gbps, a.intra[i].gbps);
    ASSERT_EQ(b.intra[i].channels.size(), a.intra[i].channels.size());
    for (size_t c = 0; c < a.intra[i].channels.size(); ++c) {
      EXPECT_EQ(b.intra[i].channels[c].order, a.intra[i].channels[c].order);
      EXPECT_EQ(b.intra[i].channels[c].hops, a.intra[i].channels[c].hops);
      EXPECT_EQ(b.intra[i].channels[c].gbps, a.intra[i].channels[c].gbps);
    }
  }
  ASSERT_EQ(b.inter.size(), a.inter.size());
  for (size_t i = 0; i < a.inter.size(); ++i) {
    EXPECT_EQ(b.inter[i].entry, a.inter[i].entry);
    EXPECT_EQ(b.inter[i].exit, a.inter[i].exit);
    EXPECT_EQ(b.inter[i].channels[0].hops, a.inter[i].channels[0].hops);
  }
  EXPECT_EQ(r.db->provenance.profiler, "model");
  EXPECT_EQ(r.db->provenance.topology, "box4.json");
  // Writing again gives the same text: the format is canonical.
  EXPECT_EQ(toJsonText(*r.db), text);
}

TEST(DbJson, NonDefaultFieldsOnP2pHopsSurvive) {
  Database db = testing::sampleDatabase();
  db.nodes[0].intra[1].channels[0].hops[0].readEngine = Engine::kCopyEngine;
  db.nodes[0].intra[1].channels[0].hops[0].numa = 1;
  LoadResult r = parseDatabase(toJsonText(db));
  ASSERT_TRUE(r.db) << r.error;
  EXPECT_EQ(r.db->nodes[0].intra[1].channels[0].hops[0], db.nodes[0].intra[1].channels[0].hops[0]);
}

TEST(DbJson, ExactDoublesSurvive) {
  Database db = testing::sampleDatabase();
  db.nodes[0].intra[0].gbps = 0.1 + 0.2;
  LoadResult r = parseDatabase(toJsonText(db));
  ASSERT_TRUE(r.db) << r.error;
  EXPECT_EQ(r.db->nodes[0].intra[0].gbps, 0.1 + 0.2);
}

TEST(DbJson, InvalidUtf8NameDoesNotThrowOnWrite) {
  Database db = testing::sampleDatabase();
  db.nodes[0].signature.cpuModel = std::string("bad \xff\xfe name");
  std::string text;
  EXPECT_NO_THROW(text = toJsonText(db));
  EXPECT_TRUE(parseDatabase(text).db);
}

TEST(DbJson, ValidationRunsOnParse) {
  Database db = testing::sampleDatabase();
  db.nodes[0].intra[0].channels[0].order = {0, 1, 1, 3};
  LoadResult r = parseDatabase(toJsonText(db));
  EXPECT_FALSE(r.db);
  EXPECT_EQ(r.error, "nodes[0].intra[0].channels[0].order[2]: GPU 1 visited twice");
}

// 1M keys in one object took minutes (ordered_json searches its keys linearly on every
// insertion); the per-object cap stops the parse early with a message.
TEST(DbJson, AMillionKeysInOneObjectAreRefusedQuickly) {
  std::string text = "{\"format\": \"tccl-path-database\", \"version\": 1, \"junk\": {";
  for (int i = 0; i < 1000000; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  text += "}}";
  LoadResult r = parseDatabase(text);
  EXPECT_FALSE(r.db);
  EXPECT_EQ(r.error, "junk: object with more than 64 keys");
}

// tccl-db validate and the runtime's loader run the same checks: a database with more
// channels than a plan may have passes neither.
TEST(DbJson, ChannelLimitHoldsForValidateAndLoad) {
  Database db = testing::sampleDatabase();
  auto& channels = db.nodes[0].intra[0].channels;
  while (channels.size() < static_cast<size_t>(kMaxChannels)) channels.push_back(channels[0]);
  EXPECT_EQ(validateDatabase(db), "");
  EXPECT_TRUE(parseDatabase(toJsonText(db)).db);
  channels.push_back(channels[0]);
  EXPECT_EQ(validateDatabase(db), "nodes[0].intra[0].channels: 65 channels, at most 64");
  LoadResult r = parseDatabase(toJsonText(db));
  EXPECT_FALSE(r.db);
  EXPECT_NE(r.error.find("nodes[0].intra[0].channels: "), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("at most 64"), std::string::npos) << r.error;
}

TEST(DbJson, MissingFileIsAnError) {
  LoadResult r = loadDatabaseFile("/nonexistent/dir/db.json");
  EXPECT_FALSE(r.db);
  EXPECT_NE(r.error.find("cannot open"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace tccl::db
