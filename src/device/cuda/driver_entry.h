// Driver API functions reached through the runtime (cudaGetDriverEntryPointByVersion), as NCCL
// does, so that libtccl.so needs no libcuda at link or load time.
#pragma once

#include <cuda_runtime.h>

namespace tccl {

// *fn = the driver's `symbol` with the ABI of CUDA `version` (11070 for 11.7). Fails with
// cudaErrorNotSupported (and *fn null) when the driver does not have it.
cudaError_t loadDriverFunction(const char* symbol, unsigned version, void** fn);

}  // namespace tccl
