// The last message of a hop whose sender creates state that the receiver attaches to (a shm
// segment, CUDA IPC memory): the receiver confirms once it holds it, and the sender waits for
// that before it may tear anything down. Used by the shm and CUDA transports alike.
#pragma once

#include <nccl.h>

#include <cstdint>

#include "base/bootstrap.h"

namespace tccl {

ncclResult_t confirmAttached(Bootstrap& bootstrap, int peer, uint32_t tag);
ncclResult_t awaitAttached(Bootstrap& bootstrap, int peer, uint32_t tag);

}  // namespace tccl
