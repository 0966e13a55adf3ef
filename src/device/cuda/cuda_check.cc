#include "device/cuda/cuda_check.h"

#include <cstring>

#include "base/error.h"

namespace tccl {

ncclResult_t cudaFailure(cudaError_t err, const char* call, const char* file, int line) {
  (void)cudaGetLastError();  // clear a non-sticky error so later calls are not blamed for it
  const char* base = strrchr(file, '/');
  return setError(ncclUnhandledCudaError, "CUDA call %s failed: %s (%s) at %s:%d", call,
                  cudaGetErrorString(err), cudaGetErrorName(err), base ? base + 1 : file, line);
}

}  // namespace tccl
