// The CUDA device backend: run() enqueues a data step on the communicator's internal stream
// and returns at once; synchronize() waits for all of it. The same stream carries the FIFO
// counter writes of the CUDA transports, so a slot is published only after the kernel that
// filled it. Driven from one thread at a time (the communicator's proxy thread).
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <memory>
#include <string>

#include "device/cuda/cuda_raii.h"
#include "device/cuda/reduce_kernel.h"
#include "device/cuda/stream_memops.h"
#include "device/device_backend.h"

namespace tccl {

// True when a CUDA device is usable; otherwise *why (if given) says why not. Never logs.
bool cudaDeviceAvailable(std::string* why = nullptr);

class CudaBackend final : public DeviceBackend {
 public:
  // Fails with ncclUnhandledCudaError (or ncclInvalidArgument for a bad device) and a message.
  static ncclResult_t create(int cudaDev, std::unique_ptr<CudaBackend>* out);

  std::string_view name() const override { return "cuda"; }
  // Pure copies go to the copy engine when the hop asks for it (DataStep::copyEngine).
  ncclResult_t run(const ReduceSpec& spec, const DataStep& step) override {
    return runStep(spec, step, step.copyEngine);
  }
  // cudaMallocAsync on the internal stream; freed there with cudaFreeAsync.
  ncclResult_t allocScratch(size_t bytes, std::shared_ptr<void>* out) override;
  // cudaMallocAsync and a copy on the user's stream; freed on the internal stream, which
  // waits for the user's stream before it runs the steps that read the copy.
  ncclResult_t stageCopy(const void* src, size_t bytes, cudaStream_t stream,
                         std::shared_ptr<void>* out) override;
  // copyEngine: a step that only moves bytes uses cudaMemcpyAsync instead of a kernel.
  ncclResult_t runStep(const ReduceSpec& spec, const DataStep& step, bool copyEngine);
  // Blocks until everything enqueued so far has completed.
  ncclResult_t synchronize();
  // ncclSuccess while the stream is healthy (or busy); the kernel's error otherwise. Cheap.
  ncclResult_t checkStream();

  // Stream-ordered write of a 32-bit counter (device memory or mapped host memory). A failure
  // is kept and returned by the next run/synchronize/checkStream: callers cannot return one.
  void writeCounter(const void* devAddr, uint32_t value);

  int device() const { return dev_; }
  cudaStream_t stream() const { return stream_.get(); }
  const StreamMemOps& memOps() const { return *memOps_; }

  // Stream ordering with user streams (see cuda_launch.h): a monotonically increasing ticket
  // per launch, written to doneCounter() by the internal stream when the launch completes.
  uint32_t nextTicket() { return ++lastTicket_; }
  const void* doneCounter() const { return done_.get(); }

 private:
  CudaBackend() = default;
  ncclResult_t sticky();

  int dev_ = -1;
  CudaStream stream_;
  DeviceMemory done_;
  const StreamMemOps* memOps_ = nullptr;
  LaunchShape shape_;
  std::atomic<uint32_t> lastTicket_{0};
  cudaError_t stickyError_ = cudaSuccess;
  const char* stickyWhat_ = nullptr;
};

}  // namespace tccl
