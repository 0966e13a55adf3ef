// AllReduce on buffers that every rank can address (ncclMemAlloc memory on one machine):
// rank r reduces chunk r reading every rank's input in place, then copies the other chunks
// from their owners' outputs. About 2.5 buffer passes per rank instead of the ring's 4.
// When some rank's buffers are not shareable, every rank falls back to the ring lanes.
#pragma once

#include <memory>

#include "device/device_backend.h"
#include "exec/program.h"
#include "transport/buffer_exchange.h"

namespace tccl {

std::unique_ptr<CustomOp> makeDirectAllReduce(BufferExchange& exchange, DeviceBackend& device,
                                              uint64_t seq, int rank, int nranks,
                                              const void* sendbuff, void* recvbuff, size_t count,
                                              const ReduceSpec& spec);

}  // namespace tccl
