// The start of a forked rank in the GPU check programs: GPU 0, then the communicator.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include "common/forked_ranks.h"

namespace tccl::test {

// False after reporting through fd what failed.
inline bool joinOnGpu0(int rank, int n, const ncclUniqueId& id, int fd, ncclComm_t* comm) {
  if (cudaSetDevice(0) != cudaSuccess) {
    reportf(fd, "cudaSetDevice failed");
    return false;
  }
  const ncclResult_t r = ncclCommInitRank(comm, n, id, rank);
  if (r != ncclSuccess) {
    reportf(fd, "init: %s: %s", ncclGetErrorString(r), ncclGetLastError(nullptr));
    return false;
  }
  return true;
}

}  // namespace tccl::test
