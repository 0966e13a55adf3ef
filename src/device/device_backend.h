// The device behind the executor: where the data steps of a schedule run. The host backend
// runs them on the calling CPU thread; the cuda backend on GPU streams.
#pragma once

#include <nccl.h>

#include <cstddef>
#include <memory>
#include <string_view>

namespace tccl {

enum class ReduceKind { kSum, kProd, kMax, kMin, kPreMulSum };

// How a communicator reduces: the built-in op, or PreMulSum with its scalar. Avg is
// PreMulSum(1/n) for floating types and Sum followed by a division for integers, as in NCCL.
struct ReduceSpec {
  ncclDataType_t type = ncclFloat32;
  ReduceKind kind = ReduceKind::kSum;
  double scalar = 1.0;              // PreMulSum: multiplies each local input once
  const void* scalarPtr = nullptr;  // device-resident scalar (read when the op runs)
  int divisor = 1;                  // integer Avg: the final result is divided by this
};

// One data step: out = combine(scale(local), received), written to up to two places.
struct DataStep {
  const void* local = nullptr;     // this rank's input (optional)
  const void* received = nullptr;  // from the previous hop (optional)
  void* out0 = nullptr;            // output buffer and/or
  void* out1 = nullptr;            // the next hop's slot
  size_t count = 0;                // elements
  bool scaleLocal = false;         // PreMulSum: multiply `local` by the scalar
  bool finalize = false;           // integer Avg: divide the result
  bool copyEngine = false;         // a pure copy may use a DMA engine (the hop says so)
};

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  virtual std::string_view name() const = 0;
  virtual ncclResult_t run(const ReduceSpec& spec, const DataStep& step) = 0;
  // Memory for partial results (tree reductions) that the steps can address. It is released
  // when the last owner lets go, after (in stream order) every step issued before that.
  virtual ncclResult_t allocScratch(size_t bytes, std::shared_ptr<void>* out) = 0;
  // A copy of [src, src + bytes) taken in the order of the user's `stream` (at once on the
  // host), for the steps of this communicator to read; released like scratch memory.
  virtual ncclResult_t stageCopy(const void* src, size_t bytes, cudaStream_t stream,
                                 std::shared_ptr<void>* out) = 0;
};

std::unique_ptr<DeviceBackend> makeHostBackend();

}  // namespace tccl
