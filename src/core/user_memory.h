// What ncclMemAlloc hands out. Where the communicators of this process run on the CUDA
// backend (TCCL_DEVICE=cuda, or auto with a usable GPU: the rule that picks the backend),
// device memory as NCCL allocates it: VMM memory with a POSIX file-descriptor shareable handle,
// or cudaMalloc where the device has no VMM (or NCCL_CUMEM_ENABLE=0). On the host backend, host
// memory that the other processes of the machine can map (transport/shm/shared_alloc.h).
#pragma once

#include <nccl.h>

#include <cstddef>
#include <string>

namespace tccl {

enum class UserMemoryKind { kHostShared, kDeviceVmm, kDeviceMalloc };

// What the choice depends on, gathered by allocUserMemory.
struct UserMemoryFacts {
  std::string device = "auto";  // TCCL_DEVICE
  bool cudaUsable = false;      // a CUDA device is usable; otherwise cudaWhy says why not
  std::string cudaWhy;
  bool vmmSupported = false;  // the current device has VMM with POSIX file-descriptor handles
  bool cumemEnabled = true;   // NCCL_CUMEM_ENABLE is not 0
};

// ncclInvalidUsage for TCCL_DEVICE=cuda without a usable device.
ncclResult_t chooseUserMemory(const UserMemoryFacts& facts, UserMemoryKind* kind);

// ncclMemAlloc and ncclMemFree. Zero bytes give *out == NULL, as in NCCL. Freeing a pointer
// that did not come from allocUserMemory is ncclInvalidArgument.
ncclResult_t allocUserMemory(size_t bytes, void** out);
ncclResult_t freeUserMemory(void* ptr);

}  // namespace tccl
