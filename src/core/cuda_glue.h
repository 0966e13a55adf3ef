// Where the core meets the CUDA backend. Without CUDA in the build these are stubs that say
// so, which keeps every other core file free of CUDA types and #ifdefs.
#pragma once

#include <nccl.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exec/executor.h"
#include "transport/async_steps.h"
#include "transport/connection.h"
#include "transport/transport.h"

struct ncclComm;

namespace tccl {

// The CUDA device the calling thread has selected, or -1 (no CUDA, TCCL_DEVICE=host).
int currentCudaDevice();
// Chooses the cuda backend for TCCL_DEVICE=cuda, or auto with a usable device; sets
// comm->device and *selected. TCCL_DEVICE=cuda without a usable device is an error.
ncclResult_t selectCudaBackend(ncclComm* comm, bool* selected);
bool commUsesCuda(const ncclComm& comm);
// The PCI bus id of the communicator's GPU ("0000:3b:00.0", lower case); empty without CUDA.
std::string cudaDeviceBusId(const ncclComm& comm);
// False when two of the visible GPUs refuse each other peer access (GeForce cards on the
// stock driver): then no hop may be P2P. True without CUDA.
bool cudaPeerAccessEverywhere();
// One INFO line when ranks of this node share a GPU (NCCL refuses that; we allow it).
void noteSharedDevices(const ncclComm& comm);

// What the CUDA transport and the network's GPU staging need: the backend of a CUDA
// communicator. Leaves `ctx` alone on the host.
void addCudaHopContext(ncclComm& comm, HopContext* ctx);

// Runs each communicator's queue on its proxy thread, ordered after (and before) the user
// streams; returns once everything is enqueued.
struct CudaWork {
  ncclComm* comm;
  std::shared_ptr<WorkQueue> queue;
  std::vector<cudaStream_t> streams;
};
ncclResult_t launchCudaWork(std::vector<CudaWork> work, const WaitPolicy& policy);

// ncclMemAlloc on the GPU (device/cuda/device_user_memory.h). The probe says whether a CUDA
// device is usable (*why when not) and whether the current one can back VMM allocations.
void probeCudaUserMemory(bool* usable, std::string* why, bool* vmm);
// On the current device: VMM memory (vmm) or cudaMalloc.
ncclResult_t cudaUserMemAlloc(bool vmm, size_t bytes, void** out);
// *owned false, and nothing done, when `ptr` did not come from cudaUserMemAlloc.
ncclResult_t cudaUserMemFree(void* ptr, bool* owned);

// ncclCommFinalize: waits for the proxy and the GPU. ncclInProgress while busy (non-blocking).
ncclResult_t finalizeCuda(ncclComm* comm, bool blocking);
// Before a CUDA communicator is freed: stops the proxy and releases connections before the
// backend whose stream they use.
void releaseCudaResources(ncclComm* comm);

}  // namespace tccl
