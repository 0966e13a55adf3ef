// Which memory ncclMemAlloc hands out, decided without a GPU: the rule is the backend's rule.
#include "core/user_memory.h"

#include <gtest/gtest.h>
#include <nccl.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"

using namespace tccl;

namespace {

UserMemoryFacts facts(const char* device, bool cudaUsable, bool vmm, bool cumem = true) {
  UserMemoryFacts f;
  f.device = device;
  f.cudaUsable = cudaUsable;
  f.cudaWhy = cudaUsable ? "" : "no CUDA device";
  f.vmmSupported = vmm;
  f.cumemEnabled = cumem;
  return f;
}

UserMemoryKind choose(const UserMemoryFacts& f) {
  UserMemoryKind kind = UserMemoryKind::kHostShared;
  EXPECT_EQ(chooseUserMemory(f, &kind), ncclSuccess) << lastThreadError();
  return kind;
}

TEST(UserMemory, FollowsTheBackendChoice) {
  // The host backend: host memory, even where a GPU is usable.
  EXPECT_EQ(choose(facts("host", false, false)), UserMemoryKind::kHostShared);
  EXPECT_EQ(choose(facts("host", true, true)), UserMemoryKind::kHostShared);
  EXPECT_EQ(choose(facts("auto", false, false)), UserMemoryKind::kHostShared);
  // The CUDA backend: VMM memory where the device has it, cudaMalloc otherwise.
  EXPECT_EQ(choose(facts("auto", true, true)), UserMemoryKind::kDeviceVmm);
  EXPECT_EQ(choose(facts("cuda", true, true)), UserMemoryKind::kDeviceVmm);
  EXPECT_EQ(choose(facts("auto", true, false)), UserMemoryKind::kDeviceMalloc);
  EXPECT_EQ(choose(facts("cuda", true, true, /*cumem=*/false)), UserMemoryKind::kDeviceMalloc);
}

TEST(UserMemory, CudaRequestedWithoutADeviceIsAnError) {
  UserMemoryKind kind;
  EXPECT_EQ(chooseUserMemory(facts("cuda", false, false), &kind), ncclInvalidUsage);
  EXPECT_NE(lastThreadError().find("TCCL_DEVICE=cuda but no CUDA device is usable: no CUDA"),
            std::string::npos)
      << lastThreadError();
}

TEST(UserMemory, ZeroBytesGiveNull) {
  void* p = reinterpret_cast<void*>(0x1);
  ASSERT_EQ(ncclMemAlloc(&p, 0), ncclSuccess);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(ncclMemFree(p), ncclSuccess);
}

// This machine's choice, end to end: host memory with TCCL_DEVICE=host (writable, shared,
// released by ncclMemFree), an error for TCCL_DEVICE=cuda where no GPU is usable.
TEST(UserMemory, HostBackendGetsSharedHostMemory) {
  setenv("TCCL_DEVICE", "host", 1);
  void* p = nullptr;
  ASSERT_EQ(ncclMemAlloc(&p, 4096), ncclSuccess) << lastThreadError();
  memset(p, 0x5a, 4096);
  EXPECT_EQ(ncclMemFree(p), ncclSuccess);
  EXPECT_EQ(ncclMemFree(p), ncclInvalidArgument);
  setenv("TCCL_DEVICE", "cuda", 1);
  if (ncclMemAlloc(&p, 4096) == ncclSuccess) {
    // A usable GPU: device memory, released as such.
    EXPECT_EQ(ncclMemFree(p), ncclSuccess);
  } else {
    EXPECT_NE(lastThreadError().find("TCCL_DEVICE=cuda but no CUDA device is usable"),
              std::string::npos)
        << lastThreadError();
  }
  setenv("TCCL_DEVICE", "gpu", 1);
  EXPECT_EQ(ncclMemAlloc(&p, 4096), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("TCCL_DEVICE='gpu'"), std::string::npos);
  unsetenv("TCCL_DEVICE");
}

}  // namespace
