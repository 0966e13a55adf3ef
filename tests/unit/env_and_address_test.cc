#include <gtest/gtest.h>

#include <cstdlib>

#include "base/env.h"
#include "base/error.h"
#include "base/socket.h"
#include "core/runtime_env.h"

using namespace tccl;

TEST(Env, SizesWithSuffixesAndErrors) {
  int64_t v = 0;
  setenv("TCCL_TEST_SIZE", "4M", 1);
  EXPECT_EQ(envBytes("TCCL_TEST_SIZE", 1, 1, 1ll << 40, &v), ncclSuccess);
  EXPECT_EQ(v, 4 << 20);
  setenv("TCCL_TEST_SIZE", "4X", 1);
  EXPECT_EQ(envBytes("TCCL_TEST_SIZE", 1, 1, 1ll << 40, &v), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("TCCL_TEST_SIZE='4X'"), std::string::npos);
  setenv("TCCL_TEST_SIZE", "99999999999999999999", 1);
  EXPECT_EQ(envBytes("TCCL_TEST_SIZE", 1, 1, 1ll << 40, &v), ncclInvalidArgument);
  setenv("TCCL_TEST_SIZE", "2G", 1);
  EXPECT_EQ(envBytes("TCCL_TEST_SIZE", 1, 1, 1 << 30, &v), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("out of range"), std::string::npos);
  unsetenv("TCCL_TEST_SIZE");
  EXPECT_EQ(envBytes("TCCL_TEST_SIZE", 77, 1, 100, &v), ncclSuccess);
  EXPECT_EQ(v, 77);
}

TEST(Env, RuntimeEnvRejectsUnknownChoices) {
  RuntimeEnv env;
  setenv("TCCL_DEVICE", "gpu", 1);
  EXPECT_EQ(readRuntimeEnv(&env), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("TCCL_DEVICE='gpu'"), std::string::npos);
  unsetenv("TCCL_DEVICE");
  setenv("NCCL_ALGO", "collnet", 1);
  EXPECT_EQ(readRuntimeEnv(&env), ncclInvalidArgument);
  unsetenv("NCCL_ALGO");
  EXPECT_EQ(readRuntimeEnv(&env), ncclSuccess);
}

TEST(Address, ParsesAndRejects) {
  SocketAddress a;
  EXPECT_EQ(parseSocketAddress("127.0.0.1:5000", &a), ncclSuccess);
  EXPECT_EQ(a.toString(), "127.0.0.1:5000");
  EXPECT_EQ(parseSocketAddress("[::1]:6000", &a), ncclSuccess);
  EXPECT_EQ(a.port(), 6000);
  EXPECT_EQ(parseSocketAddress("127.0.0.1", &a), ncclInvalidArgument);
  EXPECT_EQ(parseSocketAddress("127.0.0.1:99999", &a), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("port"), std::string::npos);
  EXPECT_EQ(parseSocketAddress("no.such.host.invalid:80", &a), ncclInvalidArgument);
}

TEST(Interfaces, IfnameFilter) {
  setenv("NCCL_SOCKET_IFNAME", "=lo", 1);
  auto itfs = findInterfaces();
  ASSERT_FALSE(itfs.empty());
  for (auto& i : itfs) EXPECT_EQ(i.name, "lo");
  setenv("NCCL_SOCKET_IFNAME", "^lo", 1);
  for (auto& i : findInterfaces()) EXPECT_NE(i.name, "lo");
  unsetenv("NCCL_SOCKET_IFNAME");
}
