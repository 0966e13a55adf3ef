#include "transport/host_staging.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/log.h"
#include "transport/numa_binding.h"

namespace tccl {

HostStaging& HostStaging::operator=(HostStaging&& o) noexcept {
  if (this != &o) {
    reset();
    data_ = o.data_;
    bytes_ = o.bytes_;
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void HostStaging::reset() {
  if (data_) munmap(data_, bytes_);
  data_ = nullptr;
  bytes_ = 0;
}

ncclResult_t HostStaging::allocate(size_t bytes, int numaNode, const char* what, HostStaging* out) {
  out->reset();
  if (bytes == 0) return setError(ncclInternalError, "%s of 0 bytes", what);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return setError(ncclSystemError, "cannot map a %zu-byte %s: %s", bytes, what, strerror(errno));
  out->data_ = static_cast<char*>(p);
  out->bytes_ = bytes;
  if (numaNode < 0) return ncclSuccess;
  const NumaBinding binding = bindToNumaNode(p, bytes, numaNode);
  if (binding == NumaBinding::kBound)
    INFO(kLogNet, "%s of %zu bytes bound to NUMA node %d", what, bytes, numaNode);
  else if (binding == NumaBinding::kNoSuchNode)
    INFO(kLogNet, "this machine has no NUMA node %d: the %s is not bound", numaNode, what);
  else
    INFO(kLogNet, "could not bind the %s to NUMA node %d: %s", what, numaNode, strerror(errno));
  return ncclSuccess;
}

}  // namespace tccl
