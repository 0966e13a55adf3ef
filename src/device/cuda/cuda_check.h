// CUDA failures as ncclUnhandledCudaError with a message (ncclGetLastError shows it).
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

namespace tccl {

ncclResult_t cudaFailure(cudaError_t err, const char* call, const char* file, int line);

}  // namespace tccl

#define TCCL_CUDA_CHECK(call)                                                \
  do {                                                                       \
    cudaError_t tccl_cuda_err_ = (call);                                     \
    if (tccl_cuda_err_ != cudaSuccess)                                       \
      return ::tccl::cudaFailure(tccl_cuda_err_, #call, __FILE__, __LINE__); \
  } while (0)
