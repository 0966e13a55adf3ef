// ncclMemAlloc on a GPU, allocated as NCCL does: physical memory from cuMemCreate with a
// POSIX file-descriptor shareable handle (so that other processes of the node can import it),
// mapped into a reserved range with cuMemMap and opened with cuMemSetAccess to this device and
// every device that reaches it peer to peer. cudaMalloc where the device has no VMM. The
// driver functions come through the runtime's entry point: no libcuda in NEEDED.
#pragma once

#include <nccl.h>

#include <cstddef>

namespace tccl {

// Whether `dev` can back VMM allocations with POSIX file-descriptor handles.
bool deviceVmmSupported(int dev);
// On the current device. Fails with ncclUnhandledCudaError and the driver's message.
ncclResult_t allocDeviceUserMemory(bool vmm, size_t bytes, void** out);
// Releases whichever kind `ptr` is; *owned false (and nothing done) when it is not one of ours.
ncclResult_t freeDeviceUserMemory(void* ptr, bool* owned);

}  // namespace tccl
