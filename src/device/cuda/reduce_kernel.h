// Host entry points of the CUDA data-step kernels: one templated kernel for every datatype
// and op (picked from one table), and a plain byte copy. All pointers are device-accessible
// (device memory, IPC-mapped peer memory or mapped host memory).
#pragma once

#include <cuda_runtime.h>

#include "device/device_backend.h"

namespace tccl {

struct LaunchShape {
  int maxBlocks = 32;  // grid-stride beyond this
};

// out = combine(scale(local), received) exactly as hostReduceCopy computes it, enqueued on
// `stream`. A step that only moves bytes is a copy: by the copy engine when `copyEngine`,
// else by a kernel. spec.type must be valid.
cudaError_t launchDataStep(const ReduceSpec& spec, const DataStep& step, bool copyEngine,
                           const LaunchShape& shape, cudaStream_t stream);

// dst0 and/or dst1 = src by a kernel (16-byte vectors when every pointer allows it).
cudaError_t launchCopyKernel(void* dst0, void* dst1, const void* src, size_t bytes,
                             const LaunchShape& shape, cudaStream_t stream);

// True when the step moves bytes without arithmetic (hostReduceCopy's own test).
inline bool isPureCopy(const ReduceSpec& spec, const DataStep& s) {
  return !(s.local && s.received) && !(s.local && s.scaleLocal) &&
         !(s.finalize && spec.divisor > 1);
}

}  // namespace tccl
