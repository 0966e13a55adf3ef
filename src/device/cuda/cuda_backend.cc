#include "device/cuda/cuda_backend.h"

#include <algorithm>

#include "base/datatype.h"
#include "base/error.h"
#include "base/log.h"
#include "device/cuda/cuda_check.h"

namespace tccl {

bool cudaDeviceAvailable(std::string* why) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    if (why) *why = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e);
    return false;
  }
  if (n == 0) {
    if (why) *why = "no CUDA device";
    return false;
  }
  const StreamMemOps* ops = nullptr;
  if ((e = loadStreamMemOps(&ops)) != cudaSuccess) {
    if (why)
      *why = std::string("the driver lacks stream memory operations (cuStreamWriteValue32): ") +
             cudaGetErrorString(e);
    return false;
  }
  return true;
}

ncclResult_t CudaBackend::create(int cudaDev, std::unique_ptr<CudaBackend>* out) {
  int n = 0;
  TCCL_CUDA_CHECK(cudaGetDeviceCount(&n));
  if (cudaDev < 0 || cudaDev >= n)
    return setError(ncclInvalidArgument, "CUDA device %d does not exist (%d visible)", cudaDev, n);
  std::unique_ptr<CudaBackend> b(new CudaBackend());
  b->dev_ = cudaDev;
  DeviceGuard guard(cudaDev);
  TCCL_CUDA_CHECK(guard.status());
  TCCL_CUDA_CHECK(loadStreamMemOps(&b->memOps_));
  TCCL_CUDA_CHECK(createStream(&b->stream_));
  TCCL_CUDA_CHECK(allocDevice(sizeof(uint32_t), &b->done_));
  TCCL_CUDA_CHECK(cudaMemsetAsync(b->done_.get(), 0, sizeof(uint32_t), b->stream()));
  int sms = 0;
  TCCL_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, cudaDev));
  // PCIe-bound copies saturate with few blocks; leave the rest of the GPU to the user.
  b->shape_.maxBlocks = std::clamp(sms / 2, 1, 32);
  // Probe the memory operations once so that a driver without them fails here, clearly.
  TCCL_CUDA_CHECK(b->memOps_->write(b->stream(), b->done_.get(), 0));
  TCCL_CUDA_CHECK(cudaStreamSynchronize(b->stream()));
  INFO(kLogInit, "CUDA backend on device %d: %d SMs, up to %d blocks per step", cudaDev, sms,
       b->shape_.maxBlocks);
  *out = std::move(b);
  return ncclSuccess;
}

ncclResult_t CudaBackend::sticky() {
  if (stickyError_ == cudaSuccess) return ncclSuccess;
  return setError(ncclUnhandledCudaError, "CUDA %s failed earlier on device %d: %s", stickyWhat_,
                  dev_, cudaGetErrorString(stickyError_));
}

ncclResult_t CudaBackend::runStep(const ReduceSpec& spec, const DataStep& step, bool copyEngine) {
  TCCL_CHECK(sticky());
  if (step.count == 0) return ncclSuccess;
  if (spec.type < 0 || spec.type >= ncclNumTypes)
    return setError(ncclInvalidArgument, "invalid datatype %d", spec.type);
  DeviceGuard guard(dev_);
  TCCL_CUDA_CHECK(guard.status());
  TCCL_CUDA_CHECK(launchDataStep(spec, step, copyEngine, shape_, stream()));
  return ncclSuccess;
}

ncclResult_t CudaBackend::allocScratch(size_t bytes, std::shared_ptr<void>* out) {
  TCCL_CHECK(sticky());
  DeviceGuard guard(dev_);
  TCCL_CUDA_CHECK(guard.status());
  void* p = nullptr;
  TCCL_CUDA_CHECK(cudaMallocAsync(&p, std::max<size_t>(bytes, 1), stream()));
  // Stream-ordered: steps issued before the last owner lets go still see the memory.
  cudaStream_t s = stream();
  *out = std::shared_ptr<void>(p, [s](void* q) { (void)cudaFreeAsync(q, s); });
  return ncclSuccess;
}

ncclResult_t CudaBackend::stageCopy(const void* src, size_t bytes, cudaStream_t userStream,
                                    std::shared_ptr<void>* out) {
  TCCL_CHECK(sticky());
  DeviceGuard guard(dev_);
  TCCL_CUDA_CHECK(guard.status());
  CudaEvent copied;
  TCCL_CUDA_CHECK(createEvent(&copied));
  void* p = nullptr;
  TCCL_CUDA_CHECK(cudaMallocAsync(&p, std::max<size_t>(bytes, 1), userStream));
  // Freed on the internal stream after the steps that read it were issued there. Waiting for
  // the copy first keeps that safe when the steps never ran (a group that failed before its
  // launch); otherwise the internal stream has already waited for it.
  cudaStream_t s = stream();
  auto shared = std::make_shared<CudaEvent>(std::move(copied));
  *out = std::shared_ptr<void>(p, [s, shared](void* q) {
    (void)cudaEventSynchronize(shared->get());
    (void)cudaFreeAsync(q, s);
  });
  TCCL_CUDA_CHECK(cudaMemcpyAsync(p, src, bytes, cudaMemcpyDefault, userStream));
  TCCL_CUDA_CHECK(cudaEventRecord(shared->get(), userStream));
  return ncclSuccess;
}

void CudaBackend::writeCounter(const void* devAddr, uint32_t value) {
  if (stickyError_ != cudaSuccess) return;
  cudaError_t e = memOps_->write(stream(), devAddr, value);
  if (e != cudaSuccess) {
    stickyError_ = e;
    stickyWhat_ = "cuStreamWriteValue32";
  }
}

ncclResult_t CudaBackend::synchronize() {
  TCCL_CHECK(sticky());
  TCCL_CUDA_CHECK(cudaStreamSynchronize(stream()));
  return ncclSuccess;
}

ncclResult_t CudaBackend::checkStream() {
  TCCL_CHECK(sticky());
  cudaError_t e = cudaStreamQuery(stream());
  if (e == cudaErrorNotReady) return ncclSuccess;
  TCCL_CUDA_CHECK(e);
  return ncclSuccess;
}

}  // namespace tccl
