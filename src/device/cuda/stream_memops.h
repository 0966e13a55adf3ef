// Stream memory operations (cuStreamWriteValue32 / cuStreamWaitValue32), reached through the
// driver entry point so that the runtime library needs no -lcuda. They order a user's
// stream against work that the proxy thread enqueues later, and let a stream publish a
// FIFO counter into host memory that a proxy polls.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace tccl {

struct StreamMemOps {
  // *addr = value once the work before it in `stream` is complete (with a memory barrier).
  cudaError_t write(cudaStream_t stream, const void* devAddr, uint32_t value) const;
  // `stream` waits until (int32_t)(*addr - value) >= 0: counters may wrap around.
  cudaError_t waitGeq(cudaStream_t stream, const void* devAddr, uint32_t value) const;

  void* writeFn = nullptr;  // PFN_cuStreamWriteValue32_v11070
  void* waitFn = nullptr;   // PFN_cuStreamWaitValue32_v11070
};

// Loaded once per process. Returns an error (and null functions) when the driver lacks them.
cudaError_t loadStreamMemOps(const StreamMemOps** out);

}  // namespace tccl
