// Backend selection without and with a device: the answer and the error are explicit.
#include <gtest/gtest.h>

#include "base/error.h"
#include "device/cuda/cuda_backend.h"

namespace tccl {
namespace {

TEST(CudaAvailability, CreateAgreesWithAvailability) {
  std::string why;
  const bool available = cudaDeviceAvailable(&why);
  std::unique_ptr<CudaBackend> backend;
  ncclResult_t res = CudaBackend::create(0, &backend);
  if (available) {
    EXPECT_TRUE(why.empty()) << why;
    ASSERT_EQ(res, ncclSuccess) << lastThreadError();
    EXPECT_EQ(backend->name(), "cuda");
    EXPECT_EQ(backend->synchronize(), ncclSuccess);
  } else {
    std::printf("no CUDA device (%s): checking the failure path\n", why.c_str());
    EXPECT_FALSE(why.empty());
    EXPECT_NE(res, ncclSuccess);
    EXPECT_EQ(backend, nullptr);
    EXPECT_NE(lastThreadError().find("CUDA"), std::string::npos) << lastThreadError();
  }
}

TEST(CudaAvailability, MissingDeviceIsAnError) {
  std::string why;
  if (!cudaDeviceAvailable(&why)) GTEST_SKIP() << "no usable CUDA device: " << why;
  std::unique_ptr<CudaBackend> backend;
  EXPECT_EQ(CudaBackend::create(1 << 20, &backend), ncclInvalidArgument);
  EXPECT_NE(lastThreadError().find("does not exist"), std::string::npos) << lastThreadError();
}

}  // namespace
}  // namespace tccl
