// Stream semantics of a CUDA group: ncclGroupEnd (or a single call) returns once the work is
// enqueued; each user stream first hands its prior work to the communicator's internal
// stream (an event the proxy makes that stream wait for), then waits, through a stream
// memory operation, for a ticket that the internal stream writes when the work is done.
//
//   caller thread:   record event E on user stream S;   S: wait(done >= t)
//   proxy thread:    internal: wait(E); steps...; write(done = t)
//
// All events of a group are recorded before any stream is told to wait: two ranks of one
// process may share a user stream, and each must see the other's inputs.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <functional>
#include <memory>
#include <vector>

namespace tccl {

class CudaBackend;
class CudaProxy;

class CudaGroupLaunch {
 public:
  // One communicator's share of the group. `work` runs on `proxy` and enqueues its steps on
  // `device`'s stream (typically: runWorkQueues over this communicator's queue); it may
  // return before the GPU finishes. A failure of `work` or of the stream ordering on the proxy
  // goes to `onError` (record it as the communicator's async error); the user streams are
  // released even then, so they never hang.
  void add(CudaBackend& device, CudaProxy& proxy, std::vector<cudaStream_t> userStreams,
           std::function<ncclResult_t()> work, std::function<void(ncclResult_t)> onError);

  // Enqueues everything and returns without waiting for the GPU or for peers. An error here
  // (a bad stream, a CUDA failure) is returned; the proxies still release any stream that
  // was already told to wait.
  ncclResult_t launch();

  struct Entry;  // internal

 private:
  std::vector<std::shared_ptr<Entry>> entries_;
};

}  // namespace tccl
