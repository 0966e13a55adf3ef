#include "transport/shm/shared_alloc.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "base/error.h"

namespace tccl {
namespace {

struct Allocation {
  int fd;
  size_t bytes;
  uint64_t id;
};

std::mutex gMutex;
std::map<uintptr_t, Allocation>& allocations() {
  static std::map<uintptr_t, Allocation> m;
  return m;
}
uint64_t gNextId = 1;

}  // namespace

ncclResult_t sharedAlloc(size_t bytes, void** out) {
  // A memfd has no name to leak in /dev/shm; peers open it through /proc/<pid>/fd.
  int fd = memfd_create("tccl-buffer", MFD_CLOEXEC);
  if (fd < 0) return setError(ncclSystemError, "memfd_create: %s", strerror(errno));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    int err = errno;
    close(fd);
    return setError(ncclSystemError, "cannot allocate %zu bytes of shared memory: %s", bytes,
                    strerror(err));
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    close(fd);
    return setError(ncclSystemError, "mmap of %zu shared bytes: %s", bytes, strerror(err));
  }
  std::lock_guard<std::mutex> lock(gMutex);
  allocations()[reinterpret_cast<uintptr_t>(p)] = Allocation{fd, bytes, gNextId++};
  *out = p;
  return ncclSuccess;
}

ncclResult_t sharedFree(void* ptr) {
  std::lock_guard<std::mutex> lock(gMutex);
  auto it = allocations().find(reinterpret_cast<uintptr_t>(ptr));
  if (it == allocations().end())
    return setError(ncclInvalidArgument, "ncclMemFree: %p was not allocated by ncclMemAlloc", ptr);
  munmap(ptr, it->second.bytes);
  close(it->second.fd);
  allocations().erase(it);
  return ncclSuccess;
}

bool findSharedRange(const void* ptr, size_t bytes, SharedRange* out) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(ptr);
  std::lock_guard<std::mutex> lock(gMutex);
  auto& all = allocations();
  auto it = all.upper_bound(p);
  if (it == all.begin()) return false;
  --it;
  if (p + bytes > it->first + it->second.bytes) return false;
  *out = SharedRange{static_cast<int32_t>(getpid()), it->second.fd, it->second.id, p - it->first,
                     it->second.bytes};
  return true;
}

}  // namespace tccl
