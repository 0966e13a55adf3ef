#include "device/cuda/driver_entry.h"

namespace tccl {

cudaError_t loadDriverFunction(const char* symbol, unsigned version, void** fn) {
  *fn = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  cudaError_t status =
      cudaGetDriverEntryPointByVersion(symbol, fn, version, cudaEnableDefault, &found);
  if (status != cudaSuccess) return status;
  if (found != cudaDriverEntryPointSuccess || !*fn) {
    *fn = nullptr;
    return cudaErrorNotSupported;
  }
  return cudaSuccess;
}

}  // namespace tccl
