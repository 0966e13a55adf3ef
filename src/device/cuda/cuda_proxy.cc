#include "device/cuda/cuda_proxy.h"

#include <cuda_runtime.h>

#include "base/log.h"

namespace tccl {

CudaProxy::CudaProxy(int cudaDev) : dev_(cudaDev), thread_([this] { loop(); }) {}

CudaProxy::~CudaProxy() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void CudaProxy::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void CudaProxy::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return jobs_.empty() && !running_; });
}

bool CudaProxy::busy() {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_ || !jobs_.empty();
}

void CudaProxy::loop() {
  if (dev_ >= 0) {
    setLogDevice(dev_);
    // A failure here fails every job's first CUDA call, which reports it.
    if (cudaSetDevice(dev_) != cudaSuccess) (void)cudaGetLastError();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) break;  // stop_ with nothing left
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    running_ = true;
    lock.unlock();
    job();
    lock.lock();
    running_ = false;
    if (jobs_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

}  // namespace tccl
