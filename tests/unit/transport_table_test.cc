// Which transport the table picks for a hop, and that every entry is complete.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/transport_table.h"

namespace tccl {
namespace {

std::string pick(const HopContext& ctx, bool net) {
  HopSetup hop;
  hop.peer = 1;
  hop.net = net;
  const Transport* t = transportFor(ctx, hop);
  return t ? t->name : "none";
}

TEST(TransportTable, EveryEntryIsCompleteAndNamedOnce) {
  std::set<std::string> names;
  for (const Transport* t : transportTable()) {
    ASSERT_NE(t->name, nullptr);
    EXPECT_TRUE(t->canConnect && t->connectSend && t->connectRecv && t->awaitReceiver) << t->name;
    EXPECT_TRUE(names.insert(t->name).second) << t->name << " is in the table twice";
  }
  EXPECT_TRUE(names.count("SHM") && names.count("NET/Socket"));
}

TEST(TransportTable, HostCommunicatorUsesShmOnOneNodeAndSocketsAcross) {
  HopContext ctx;
  EXPECT_EQ(pick(ctx, false), "SHM");
  EXPECT_EQ(pick(ctx, true), "NET/Socket");
}

TEST(TransportTable, CudaCommunicatorUsesCudaOnOneNodeOnly) {
  HopContext ctx;
  // canConnect only asks whether the communicator has a CUDA backend; it is never used here.
  alignas(64) static char backendStandIn[64];
  ctx.cudaDevice = reinterpret_cast<CudaBackend*>(backendStandIn);
#ifdef TCCL_HAVE_CUDA
  EXPECT_EQ(pick(ctx, false), "CUDA");
#else
  EXPECT_EQ(pick(ctx, false), "SHM") << "a build without CUDA has no CUDA entry";
#endif
  EXPECT_EQ(pick(ctx, true), "NET/Socket");
}

}  // namespace
}  // namespace tccl
