#include "core/user_memory.h"

#include <map>
#include <mutex>

#include "base/env.h"
#include "base/error.h"
#include "base/log.h"
#include "core/cuda_glue.h"
#include "transport/caller_memory.h"
#include "transport/shm/shared_alloc.h"

namespace tccl {
namespace {

// Host memory handed out, by address: its region in the caller memory table.
std::mutex gHostRegionsMutex;
std::map<void*, uint64_t> gHostRegions;

const char* kindName(UserMemoryKind kind) {
  switch (kind) {
    case UserMemoryKind::kHostShared:
      return "host (shared memfd)";
    case UserMemoryKind::kDeviceVmm:
      return "device (cuMemCreate, POSIX fd handle)";
    case UserMemoryKind::kDeviceMalloc:
      return "device (cudaMalloc)";
  }
  return "?";
}

ncclResult_t gatherFacts(UserMemoryFacts* facts) {
  TCCL_CHECK(readDeviceSetting(&facts->device));
  int64_t cumem = 1;
  // NCCL's -2 means "where supported"; 0 turns VMM off.
  TCCL_CHECK(envInt("NCCL_CUMEM_ENABLE", 1, -2, 1, &cumem));
  facts->cumemEnabled = cumem != 0;
  if (facts->device != "host")
    probeCudaUserMemory(&facts->cudaUsable, &facts->cudaWhy, &facts->vmmSupported);
  return ncclSuccess;
}

}  // namespace

ncclResult_t chooseUserMemory(const UserMemoryFacts& facts, UserMemoryKind* kind) {
  if (facts.device == "host" || (facts.device == "auto" && !facts.cudaUsable)) {
    *kind = UserMemoryKind::kHostShared;
    return ncclSuccess;
  }
  if (!facts.cudaUsable)
    return setError(ncclInvalidUsage,
                    "ncclMemAlloc: TCCL_DEVICE=cuda but no CUDA device is usable: %s",
                    facts.cudaWhy.c_str());
  *kind = facts.vmmSupported && facts.cumemEnabled ? UserMemoryKind::kDeviceVmm
                                                   : UserMemoryKind::kDeviceMalloc;
  return ncclSuccess;
}

ncclResult_t allocUserMemory(size_t bytes, void** out) {
  *out = nullptr;
  if (bytes == 0) return ncclSuccess;
  UserMemoryFacts facts;
  TCCL_CHECK(gatherFacts(&facts));
  UserMemoryKind kind;
  TCCL_CHECK(chooseUserMemory(facts, &kind));
  if (kind == UserMemoryKind::kHostShared) {
    TCCL_CHECK(sharedAlloc(bytes, out));
    std::lock_guard<std::mutex> lock(gHostRegionsMutex);
    gHostRegions[*out] = CallerMemory::process().add(*out, bytes);
  } else
    TCCL_CHECK(cudaUserMemAlloc(kind == UserMemoryKind::kDeviceVmm, bytes, out));
  TRACE(kLogAlloc, "ncclMemAlloc: %zu bytes of %s at %p", bytes, kindName(kind), *out);
  return ncclSuccess;
}

ncclResult_t freeUserMemory(void* ptr) {
  {
    std::lock_guard<std::mutex> lock(gHostRegionsMutex);
    auto it = gHostRegions.find(ptr);
    if (it != gHostRegions.end()) {
      CallerMemory::process().remove(it->second);
      gHostRegions.erase(it);
    }
  }
  bool owned = false;
  TCCL_CHECK(cudaUserMemFree(ptr, &owned));
  return owned ? ncclSuccess : sharedFree(ptr);
}

}  // namespace tccl
