// BufferExchange over a shared-memory table: each rank publishes where its ncclMemAlloc
// buffers are (memfd + offset) and peers map them through /proc/<pid>/fd.
#pragma once

#include <memory>

#include "base/bootstrap.h"
#include "transport/buffer_exchange.h"

namespace tccl {

// Collective over the communicator: every rank must be on this machine.
ncclResult_t createShmBufferExchange(Bootstrap& bootstrap, std::unique_ptr<BufferExchange>* out);

}  // namespace tccl
