#include "device/cuda/cuda_launch.h"

#include "base/error.h"
#include "device/cuda/cuda_backend.h"
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_proxy.h"

namespace tccl {

struct CudaGroupLaunch::Entry {
  CudaBackend* device;
  CudaProxy* proxy;
  std::vector<cudaStream_t> userStreams;
  std::function<ncclResult_t()> work;
  std::function<void(ncclResult_t)> onError;
  std::vector<CudaEvent> inputs;  // one per user stream, recorded at launch
  uint32_t ticket = 0;
  bool runWork = true;
};

void CudaGroupLaunch::add(CudaBackend& device, CudaProxy& proxy,
                          std::vector<cudaStream_t> userStreams, std::function<ncclResult_t()> work,
                          std::function<void(ncclResult_t)> onError) {
  auto e = std::make_shared<Entry>();
  e->device = &device;
  e->proxy = &proxy;
  e->userStreams = std::move(userStreams);
  e->work = std::move(work);
  e->onError = std::move(onError);
  entries_.push_back(std::move(e));
}

namespace {

ncclResult_t recordInputs(CudaBackend& dev, const std::vector<cudaStream_t>& streams,
                          std::vector<CudaEvent>* out) {
  DeviceGuard guard(dev.device());
  TCCL_CUDA_CHECK(guard.status());
  for (cudaStream_t s : streams) {
    CudaEvent ev;
    TCCL_CUDA_CHECK(createEvent(&ev));
    TCCL_CUDA_CHECK(cudaEventRecord(ev.get(), s));
    out->push_back(std::move(ev));
  }
  return ncclSuccess;
}

ncclResult_t waitForTicket(CudaBackend& dev, const std::vector<cudaStream_t>& streams,
                           uint32_t ticket) {
  DeviceGuard guard(dev.device());
  TCCL_CUDA_CHECK(guard.status());
  for (cudaStream_t s : streams)
    TCCL_CUDA_CHECK(dev.memOps().waitGeq(s, dev.doneCounter(), ticket));
  return ncclSuccess;
}

// Proxy side: the internal stream waits for the inputs, the work enqueues its steps, and the
// ticket is written after them whatever happened.
void runEntry(CudaGroupLaunch::Entry& e);

}  // namespace

ncclResult_t CudaGroupLaunch::launch() {
  ncclResult_t res = ncclSuccess;
  for (auto& e : entries_) {
    e->ticket = e->device->nextTicket();
    if (res == ncclSuccess) res = recordInputs(*e->device, e->userStreams, &e->inputs);
  }
  if (res == ncclSuccess) {
    for (auto& e : entries_) {
      res = waitForTicket(*e->device, e->userStreams, e->ticket);
      if (res != ncclSuccess) break;
    }
  }
  for (auto& e : entries_) {
    e->runWork = res == ncclSuccess;
    e->proxy->post([e] { runEntry(*e); });
  }
  entries_.clear();
  return res;
}

namespace {

ncclResult_t orderAfterInputs(CudaGroupLaunch::Entry& e) {
  for (const CudaEvent& ev : e.inputs)
    TCCL_CUDA_CHECK(cudaStreamWaitEvent(e.device->stream(), ev.get(), 0));
  return ncclSuccess;
}

void runEntry(CudaGroupLaunch::Entry& e) {
  if (e.runWork) {
    ncclResult_t res = orderAfterInputs(e);
    if (res == ncclSuccess) res = e.work();
    if (res != ncclSuccess && e.onError) e.onError(res);
  }
  e.device->writeCounter(e.device->doneCounter(), e.ticket);
  ncclResult_t res = e.device->checkStream();
  if (res != ncclSuccess && e.onError) e.onError(res);
  e.inputs.clear();
  e.work = nullptr;  // drop the programs now, not when the last copy of the entry goes
}

}  // namespace

}  // namespace tccl
