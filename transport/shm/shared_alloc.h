// Host memory that other processes of the machine can map: what ncclMemAlloc hands out on
// the host backend, so that peers read and write user buffers directly (no FIFO copy).
#pragma once

#include <nccl.h>

#include <cstddef>
#include <cstdint>

namespace tccl {

ncclResult_t sharedAlloc(size_t bytes, void** out);
// ncclInvalidArgument when `ptr` did not come from sharedAlloc.
ncclResult_t sharedFree(void* ptr);

// Where a shared range lives, for a peer to map it.
struct SharedRange {
  int32_t pid = 0;
  int32_t fd = -1;       // memfd in process `pid`
  uint64_t allocId = 0;  // unique per allocation in that process
  uint64_t offset = 0;   // of the pointer within the allocation
  uint64_t allocBytes = 0;
};
// True when [ptr, ptr + bytes) lies inside one shared allocation.
bool findSharedRange(const void* ptr, size_t bytes, SharedRange* out);

}  // namespace tccl
