// Memory allocation and buffer registration.
#include <cstdlib>
#include <map>
#include <mutex>

#include "api/api.h"
#include "base/error.h"
#include "core/communicator.h"
#include "core/user_memory.h"
#include "transport/caller_memory.h"

using namespace tccl;

namespace {
std::mutex gAllocMutex;
// A registration handle: what ncclCommRegister hands out, owned by this table.
struct Registration {
  ncclComm* comm;
  void* buff;
  size_t size;
  uint64_t region;  // in CallerMemory: net plugins may register it and send from it
};
std::map<void*, std::unique_ptr<Registration>>& registrations() {
  static std::map<void*, std::unique_ptr<Registration>> m;
  return m;
}
}  // namespace

NCCL_API(ncclResult_t, ncclMemAlloc, void** ptr, size_t size);
ncclResult_t ncclMemAlloc(void** ptr, size_t size) try {
  if (!ptr) return setError(ncclInvalidArgument, "ncclMemAlloc: ptr is NULL");
  return allocUserMemory(size, ptr);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclMemFree, void* ptr);
ncclResult_t ncclMemFree(void* ptr) try {
  if (!ptr) return ncclSuccess;
  return freeUserMemory(ptr);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommRegister, const ncclComm_t comm, void* buff, size_t size,
         void** handle);
ncclResult_t ncclCommRegister(const ncclComm_t comm, void* buff, size_t size, void** handle) try {
  const char* fn = "ncclCommRegister";
  TCCL_CHECK(checkComm(comm, fn));
  if (!handle) return finish(comm, setError(ncclInvalidArgument, "%s: handle is NULL", fn));
  if (!buff || size == 0)
    return finish(comm,
                  setError(ncclInvalidArgument, "%s: buffer %p of %zu bytes", fn, buff, size));
  auto reg = std::make_unique<Registration>(
      Registration{comm, buff, size, CallerMemory::process().add(buff, size)});
  std::lock_guard<std::mutex> lock(gAllocMutex);
  *handle = reg.get();
  registrations()[reg.get()] = std::move(reg);
  return ncclSuccess;
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommDeregister, const ncclComm_t comm, void* handle);
ncclResult_t ncclCommDeregister(const ncclComm_t comm, void* handle) try {
  const char* fn = "ncclCommDeregister";
  TCCL_CHECK(checkComm(comm, fn));
  std::lock_guard<std::mutex> lock(gAllocMutex);
  auto it = registrations().find(handle);
  if (it == registrations().end() || it->second->comm != comm)
    return finish(comm, setError(ncclInvalidArgument,
                                 "%s: %p is not a registration of this communicator", fn, handle));
  CallerMemory::process().remove(it->second->region);
  registrations().erase(it);
  return ncclSuccess;
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommWindowRegister, ncclComm_t comm, void* buff, size_t size,
         ncclWindow_t* win, int winFlags);
ncclResult_t ncclCommWindowRegister(ncclComm_t, void*, size_t, ncclWindow_t*, int) try {
  return unsupported("ncclCommWindowRegister", "symmetric memory windows");
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommWindowDeregister, ncclComm_t comm, ncclWindow_t win);
ncclResult_t ncclCommWindowDeregister(ncclComm_t, ncclWindow_t) try {
  return unsupported("ncclCommWindowDeregister", "symmetric memory windows");
}
TCCL_API_CATCH
