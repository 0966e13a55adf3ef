#include "transport/cuda/cuda_async_steps.h"

#include <cuda_runtime.h>

#include <functional>
#include <memory>

#include "base/error.h"
#include "device/cuda/cuda_backend.h"
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_raii.h"

namespace tccl {
namespace {

void CUDART_CB runPublication(void* arg) {
  std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()>*>(arg));
  (*fn)();
}

class CudaAsyncSteps final : public AsyncSteps {
 public:
  explicit CudaAsyncSteps(CudaBackend& dev) : dev_(dev) {}
  ~CudaAsyncSteps() override { drain(); }

  ncclResult_t adopt(void* base, size_t bytes, void** stepBase) override {
    if (reg_) return setError(ncclInternalError, "a staging buffer is already adopted");
    DeviceGuard guard(dev_.device());
    TCCL_CUDA_CHECK(guard.status());
    TCCL_CUDA_CHECK(registerHost(base, bytes, &reg_, stepBase));
    return ncclSuccess;
  }

  ncclResult_t afterIssuedSteps(std::function<void()> fn) override {
    auto owned = std::make_unique<std::function<void()>>(std::move(fn));
    DeviceGuard guard(dev_.device());
    TCCL_CUDA_CHECK(guard.status());
    TCCL_CUDA_CHECK(cudaLaunchHostFunc(dev_.stream(), runPublication, owned.get()));
    (void)owned.release();  // runPublication owns it now
    return ncclSuccess;
  }

  void drain() override {
    DeviceGuard guard(dev_.device());
    (void)cudaStreamSynchronize(dev_.stream());
  }

  ncclResult_t check() override { return dev_.checkStream(); }

 private:
  CudaBackend& dev_;
  HostRegistration reg_;
};

}  // namespace

std::shared_ptr<AsyncSteps> makeCudaAsyncSteps(CudaBackend& device) {
  return std::make_shared<CudaAsyncSteps>(device);
}

}  // namespace tccl
