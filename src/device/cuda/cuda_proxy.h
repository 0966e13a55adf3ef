// The proxy: one thread per CUDA communicator that runs its posted jobs (the executor over
// the communicator's programs) in order, so that the calling thread never waits for GPU work
// or for peers. Jobs of one communicator never overlap; jobs of different communicators run
// on their own proxies, side by side, which is what lets ranks that share a process (or a
// GPU) make progress together.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tccl {

class CudaProxy {
 public:
  // cudaDev >= 0: the thread makes that device current before running any job.
  explicit CudaProxy(int cudaDev);
  // Runs what is still queued, then joins the thread.
  ~CudaProxy();
  CudaProxy(const CudaProxy&) = delete;
  CudaProxy& operator=(const CudaProxy&) = delete;

  void post(std::function<void()> job);
  // Returns once every job posted before the call has finished running.
  void drain();
  // True while a job runs or waits (ncclCommFinalize's "in progress").
  bool busy();

 private:
  void loop();

  int dev_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::function<void()>> jobs_;
  bool running_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tccl
