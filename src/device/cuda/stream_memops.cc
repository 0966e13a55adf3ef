#include "device/cuda/stream_memops.h"

#include <cuda.h>
#include <cudaTypedefs.h>

#include <mutex>

#include "device/cuda/driver_entry.h"

namespace tccl {
namespace {

// CUresult values that have a runtime equivalent worth keeping apart.
cudaError_t toRuntimeError(CUresult res) {
  switch (res) {
    case CUDA_SUCCESS:
      return cudaSuccess;
    case CUDA_ERROR_INVALID_VALUE:
      return cudaErrorInvalidValue;
    case CUDA_ERROR_NOT_SUPPORTED:
      return cudaErrorNotSupported;
    case CUDA_ERROR_INVALID_HANDLE:
      return cudaErrorInvalidResourceHandle;
    case CUDA_ERROR_ILLEGAL_ADDRESS:
      return cudaErrorIllegalAddress;
    default:
      return cudaErrorUnknown;
  }
}

}  // namespace

cudaError_t StreamMemOps::write(cudaStream_t stream, const void* devAddr, uint32_t value) const {
  auto fn = reinterpret_cast<PFN_cuStreamWriteValue32_v11070>(writeFn);
  return toRuntimeError(
      fn(stream, reinterpret_cast<CUdeviceptr>(devAddr), value, CU_STREAM_WRITE_VALUE_DEFAULT));
}

cudaError_t StreamMemOps::waitGeq(cudaStream_t stream, const void* devAddr, uint32_t value) const {
  auto fn = reinterpret_cast<PFN_cuStreamWaitValue32_v11070>(waitFn);
  return toRuntimeError(
      fn(stream, reinterpret_cast<CUdeviceptr>(devAddr), value, CU_STREAM_WAIT_VALUE_GEQ));
}

cudaError_t loadStreamMemOps(const StreamMemOps** out) {
  static StreamMemOps ops;
  static cudaError_t status = cudaSuccess;
  static std::once_flag once;
  std::call_once(once, [] {
    // Version 11.7 is the ABI of cuStreamWriteValue32_v2 / cuStreamWaitValue32_v2.
    void* write = nullptr;
    void* wait = nullptr;
    status = loadDriverFunction("cuStreamWriteValue32", 11070, &write);
    if (status == cudaSuccess) status = loadDriverFunction("cuStreamWaitValue32", 11070, &wait);
    if (status == cudaSuccess) {
      ops.writeFn = write;
      ops.waitFn = wait;
    }
  });
  *out = status == cudaSuccess ? &ops : nullptr;
  return status;
}

}  // namespace tccl
