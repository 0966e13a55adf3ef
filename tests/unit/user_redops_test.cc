#include "core/user_redops.h"

#include <gtest/gtest.h>

namespace tccl {
namespace {

UserRedOp scaledBy(double s) {
  UserRedOp op;
  op.scalar = s;
  return op;
}

TEST(UserRedOps, IndicesAreReusedAfterRemove) {
  UserRedOps ops;
  EXPECT_EQ(ops.add(scaledBy(1), 8), 0u);
  EXPECT_EQ(ops.add(scaledBy(2), 8), 1u);
  EXPECT_EQ(ops.add(scaledBy(3), 8), 2u);
  ASSERT_TRUE(ops.remove(1));
  EXPECT_EQ(ops.find(1), nullptr);
  EXPECT_EQ(ops.add(scaledBy(4), 8), 1u);
  ASSERT_NE(ops.find(1), nullptr);
  EXPECT_EQ(ops.find(1)->scalar, 4);
  EXPECT_EQ(ops.find(2)->scalar, 3);
}

TEST(UserRedOps, UnknownOrRemovedIndicesAreRefused) {
  UserRedOps ops;
  EXPECT_FALSE(ops.remove(0));
  EXPECT_EQ(ops.find(-1), nullptr);
  ASSERT_EQ(ops.add(scaledBy(1), 8), 0u);
  EXPECT_EQ(ops.find(1), nullptr);
  EXPECT_TRUE(ops.remove(0));
  EXPECT_FALSE(ops.remove(0)) << "destroyed twice";
}

TEST(UserRedOps, FullTableTakesNothing) {
  UserRedOps ops;
  EXPECT_EQ(ops.add(scaledBy(1), 2), 0u);
  EXPECT_EQ(ops.add(scaledBy(2), 2), 1u);
  EXPECT_EQ(ops.add(scaledBy(3), 2), std::nullopt);
  EXPECT_EQ(ops.find(2), nullptr) << "a refused operator must not be stored";
}

}  // namespace
}  // namespace tccl
