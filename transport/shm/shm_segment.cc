#include "transport/shm/shm_segment.h"

#include <fcntl.h>
#include <hwloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/error.h"
#include "core/log.h"
#include "core/socket.h"

namespace tccl {

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
// One hwloc topology per process: loading it takes milliseconds.
hwloc_topology_t machineTopology() {
  static hwloc_topology_t topo = [] {
    hwloc_topology_t t = nullptr;
    if (hwloc_topology_init(&t) != 0) return static_cast<hwloc_topology_t>(nullptr);
    if (hwloc_topology_load(t) != 0) {
      hwloc_topology_destroy(t);
      return static_cast<hwloc_topology_t>(nullptr);
    }
    return t;
  }();
  return topo;
}

void bindToNuma(void* data, size_t bytes, int numaNode) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  hwloc_topology_t topo = machineTopology();
  hwloc_obj_t node =
      topo ? hwloc_get_numanode_obj_by_os_index(topo, static_cast<unsigned>(numaNode)) : nullptr;
  if (!node) {
    static bool told = false;
    if (!told)
      INFO(kLogShm | kLogTccl,
           "this machine has no NUMA node %d: host-bounce buffer placement is simulated", numaNode);
    told = true;
    return;
  }
  if (hwloc_set_area_membind(topo, data, bytes, node->nodeset, HWLOC_MEMBIND_BIND,
                             HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_MIGRATE) == 0)
    INFO(kLogShm, "shm segment of %zu bytes bound to NUMA node %d", bytes, numaNode);
  else
    INFO(kLogShm, "could not bind %zu bytes to NUMA node %d: %s", bytes, numaNode, strerror(errno));
}
}  // namespace

ncclResult_t ShmSegment::create(const std::string& name, size_t bytes, int numaNode,
                                ShmSegment* out) {
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
