#include "core/cuda_glue.h"

#include <map>
#include <mutex>
#include <set>

#include "base/error.h"
#include "base/log.h"
#include "core/communicator.h"

#ifdef TCCL_HAVE_CUDA
#include "device/cuda/cuda_backend.h"
#include "device/cuda/cuda_launch.h"
#include "device/cuda/cuda_proxy.h"
#include "device/cuda/device_user_memory.h"
#include "transport/cuda/cuda_async_steps.h"
#endif

namespace tccl {

#ifdef TCCL_HAVE_CUDA

// What a CUDA communicator owns beyond ncclComm's device: its proxy thread.
struct CudaCommState {
  CudaBackend* backend = nullptr;  // comm->device, typed
  std::unique_ptr<CudaProxy> proxy;
};

namespace {
CudaCommState* state(const ncclComm& comm) {
  return comm.cudaState.get();
}

}  // namespace

int currentCudaDevice() {
  const char* dev = getenv("TCCL_DEVICE");
  if (dev && std::string(dev) == "host") return -1;
  if (!cudaDeviceAvailable()) return -1;
  int d = -1;
  return cudaGetDevice(&d) == cudaSuccess ? d : -1;
}

ncclResult_t selectCudaBackend(ncclComm* comm, bool* selected) {
  *selected = false;
  if (comm->env.device == "host") return ncclSuccess;
  std::string why;
  if (!cudaDeviceAvailable(&why)) {
    if (comm->env.device == "cuda")
      return setError(ncclInvalidUsage, "TCCL_DEVICE=cuda but no CUDA device is usable: %s",
                      why.c_str());
    INFO(kLogInit, "no usable CUDA device (%s): host backend", why.c_str());
    return ncclSuccess;
  }
  if (comm->cudaDev < 0) comm->cudaDev = 0;
  std::unique_ptr<CudaBackend> backend;
  TCCL_CHECK(CudaBackend::create(comm->cudaDev, &backend));
  auto st = std::make_shared<CudaCommState>();
  st->backend = backend.get();
  st->proxy = std::make_unique<CudaProxy>(comm->cudaDev);
  comm->cudaState = st;
  comm->device = std::move(backend);
  *selected = true;
  return ncclSuccess;
}

bool commUsesCuda(const ncclComm& comm) {
  return comm.cudaState != nullptr;
}

bool cudaPeerAccessEverywhere() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return true;
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) {
      int can = 1;
      if (a != b && cudaDeviceCanAccessPeer(&can, a, b) == cudaSuccess && !can) return false;
    }
  return true;
}

std::string cudaDeviceBusId(const ncclComm& comm) {
  char buf[32] = {};
  if (!commUsesCuda(comm) || cudaDeviceGetPCIBusId(buf, sizeof buf, comm.cudaDev) != cudaSuccess)
    return "";
  std::string id(buf);
  for (char& c : id) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return id;
}

void noteSharedDevices(const ncclComm& comm) {
  if (!commUsesCuda(comm)) return;
  const RankInfo& me = comm.ranks[comm.rank];
  for (const RankInfo& r : comm.ranks)
    if (r.rank < comm.rank && r.hostHash == me.hostHash && r.cudaDev == me.cudaDev) {
      INFO(kLogInit, "rank %d shares CUDA device %d with rank %d (allowed by TCCL, not by NCCL)",
           comm.rank, me.cudaDev, r.rank);
      return;
    }
}

void addCudaHopContext(ncclComm& comm, HopContext* ctx) {
  if (!commUsesCuda(comm)) return;
  CudaBackend* backend = state(comm)->backend;
  ctx->cudaDevice = backend;
  ctx->netStaging = [backend] { return makeCudaAsyncSteps(*backend); };
}

ncclResult_t launchCudaWork(std::vector<CudaWork> work, const WaitPolicy& policy) {
  CudaGroupLaunch group;
  for (CudaWork& w : work) {
    ncclComm* comm = w.comm;
    std::shared_ptr<WorkQueue> queue = w.queue;
    group.add(
        *state(*comm)->backend, *state(*comm)->proxy, w.streams,
        [queue, policy] {
          std::vector<WorkQueue*> queues{queue.get()};
          return runWorkQueues(queues, policy);
        },
        [comm](ncclResult_t res) {
          std::lock_guard<std::mutex> lock(comm->mutex);
          comm->asyncError.store(res);
          comm->lastError = lastThreadError();
        });
  }
  return group.launch();
}

void probeCudaUserMemory(bool* usable, std::string* why, bool* vmm) {
  *usable = cudaDeviceAvailable(why);
  int dev = -1;
  *vmm = *usable && cudaGetDevice(&dev) == cudaSuccess && deviceVmmSupported(dev);
}

ncclResult_t cudaUserMemAlloc(bool vmm, size_t bytes, void** out) {
  return allocDeviceUserMemory(vmm, bytes, out);
}

ncclResult_t cudaUserMemFree(void* ptr, bool* owned) {
  return freeDeviceUserMemory(ptr, owned);
}

ncclResult_t finalizeCuda(ncclComm* comm, bool blocking) {
  CudaCommState* st = state(*comm);
  if (!st) return ncclSuccess;
  if (!blocking && st->proxy->busy()) return ncclInProgress;
  st->proxy->drain();
  return st->backend->synchronize();
}

void releaseCudaResources(ncclComm* comm) {
  CudaCommState* st = state(*comm);
  if (!st) return;
  st->proxy.reset();
  comm->channels.clear();
  comm->p2pSend.clear();
  comm->p2pRecv.clear();
  comm->device.reset();
  comm->cudaState.reset();
}

#else  // no CUDA in this build

int currentCudaDevice() {
  return -1;
}

ncclResult_t selectCudaBackend(ncclComm* comm, bool* selected) {
  *selected = false;
  if (comm->env.device == "cuda")
    return setError(
        ncclInvalidUsage,
        "TCCL_DEVICE=cuda: this build has no CUDA backend (configured with -DTCCL_CUDA=OFF "
        "or without nvcc); use TCCL_DEVICE=host");
  return ncclSuccess;
}

bool commUsesCuda(const ncclComm&) {
  return false;
}
std::string cudaDeviceBusId(const ncclComm&) {
  return "";
}
bool cudaPeerAccessEverywhere() {
  return true;
}
void noteSharedDevices(const ncclComm&) {}

void addCudaHopContext(ncclComm&, HopContext*) {}
ncclResult_t launchCudaWork(std::vector<CudaWork>, const WaitPolicy&) {
  return setError(ncclInternalError, "CUDA launch without the CUDA backend");
}
void probeCudaUserMemory(bool* usable, std::string* why, bool* vmm) {
  *usable = *vmm = false;
  *why = "this build has no CUDA backend";
}
ncclResult_t cudaUserMemAlloc(bool, size_t, void**) {
  return setError(ncclInternalError, "device memory without the CUDA backend");
}
ncclResult_t cudaUserMemFree(void*, bool* owned) {
  *owned = false;
  return ncclSuccess;
}
ncclResult_t finalizeCuda(ncclComm*, bool) {
  return ncclSuccess;
}
void releaseCudaResources(ncclComm*) {}

#endif

}  // namespace tccl
