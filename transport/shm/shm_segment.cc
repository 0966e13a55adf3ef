#include "transport/shm/shm_segment.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>

#include "base/error.h"
#include "base/log.h"
#include "base/socket.h"
#include "transport/numa_binding.h"

namespace tccl {

namespace {

unsigned pidNamespace() {
  struct stat st {};
  return stat("/proc/self/ns/pid", &st) == 0 ? static_cast<unsigned>(st.st_ino) : 0;
}

}  // namespace

std::string ownedShmName(const std::string& what) {
  char prefix[48];
  snprintf(prefix, sizeof(prefix), "/tccl-%x-%x-", pidNamespace(), static_cast<unsigned>(getpid()));
  return prefix + what;
}

int removeStaleShmSegments() {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/dev/shm"), closedir);
  if (!dir) return 0;
  const unsigned ns = pidNamespace();
  int removed = 0;
  while (dirent* e = readdir(dir.get())) {
    // "tccl-<ns>-<pid>-...": other names (older releases, other programs) are left alone.
    const std::string_view name = e->d_name;
    if (name.rfind("tccl-", 0) != 0) continue;
    uint32_t segNs = 0, pid = 0;
    const char* p = name.data() + 5;
    const char* end = name.data() + name.size();
    auto ns1 = std::from_chars(p, end, segNs, 16);
    if (ns1.ec != std::errc() || ns1.ptr == end || *ns1.ptr != '-') continue;
    auto pid1 = std::from_chars(ns1.ptr + 1, end, pid, 16);
    if (pid1.ec != std::errc() || pid1.ptr == end || *pid1.ptr != '-') continue;
    if (segNs != ns || pid == 0 || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue;
    if (shm_unlink((std::string("/") + e->d_name).c_str()) == 0) ++removed;
  }
  if (removed)
    INFO(kLogShm, "removed %d shared-memory segments left behind by processes that died", removed);
  return removed;
}

ShmSegment& ShmSegment::operator=(ShmSegment&& o) noexcept {
  if (this != &o) {
    this->~ShmSegment();
    data_ = o.data_;
    size_ = o.size_;
    name_ = std::move(o.name_);
    linked_ = o.linked_;
    o.data_ = nullptr;
    o.size_ = 0;
    o.linked_ = false;
  }
  return *this;
}

ShmSegment::~ShmSegment() {
  if (data_) munmap(data_, size_);
  data_ = nullptr;
  if (linked_) shm_unlink(name_.c_str());
}

void ShmSegment::unlink() {
  if (!name_.empty()) shm_unlink(name_.c_str());
  linked_ = false;
}

namespace {
void bindToNuma(void* data, size_t bytes, int numaNode) {
  switch (bindToNumaNode(data, bytes, numaNode)) {
    case NumaBinding::kBound:
      INFO(kLogShm, "shm segment of %zu bytes bound to NUMA node %d", bytes, numaNode);
      break;
    case NumaBinding::kNoSuchNode: {
      static std::once_flag once;
      std::call_once(once, [numaNode] {
        INFO(kLogShm | kLogTccl,
             "this machine has no NUMA node %d: host-bounce buffer placement is simulated",
             numaNode);
      });
      break;
    }
    case NumaBinding::kFailed:
      INFO(kLogShm, "could not bind %zu bytes to NUMA node %d: %s", bytes, numaNode,
           strerror(errno));
      break;
  }
}
}  // namespace

ncclResult_t ShmSegment::create(const std::string& name, size_t bytes, int numaNode,
                                ShmSegment* out) {
  static std::once_flag sweep;
  std::call_once(sweep, [] { removeStaleShmSegments(); });
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return setError(ncclSystemError, "shm_open(%s): %s", name.c_str(), strerror(errno));
  Fd guard(fd);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    shm_unlink(name.c_str());
    return setError(ncclSystemError,
                    "cannot size shared memory %s to %zu bytes: %s (is /dev/shm full?)",
                    name.c_str(), bytes, strerror(errno));
  }
  void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    shm_unlink(name.c_str());
    return setError(ncclSystemError, "mmap(%s, %zu): %s", name.c_str(), bytes, strerror(errno));
  }
  ShmSegment seg;
  seg.data_ = data;
  seg.size_ = bytes;
  seg.name_ = name;
  seg.linked_ = true;
  if (numaNode >= 0) bindToNuma(data, bytes, numaNode);
  *out = std::move(seg);
  return ncclSuccess;
}

ncclResult_t ShmSegment::open(const std::string& name, size_t bytes, ShmSegment* out) {
  int fd = shm_open(name.c_str(), O_RDWR, 0600);
  if (fd < 0) return setError(ncclSystemError, "shm_open(%s): %s", name.c_str(), strerror(errno));
  Fd guard(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < bytes)
    return setError(ncclSystemError, "shared memory %s is smaller than the expected %zu bytes",
                    name.c_str(), bytes);
  void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED)
    return setError(ncclSystemError, "mmap(%s, %zu): %s", name.c_str(), bytes, strerror(errno));
  ShmSegment seg;
  seg.data_ = data;
  seg.size_ = bytes;
  seg.name_ = name;
  *out = std::move(seg);
  return ncclSuccess;
}

}  // namespace tccl
