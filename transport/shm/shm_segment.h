// A POSIX shared-memory segment mapped into this process (RAII).
#pragma once

#include <nccl.h>

#include <cstddef>
#include <string>

namespace tccl {

// "/tccl-<pid namespace>-<pid>-<what>": a segment that names the process that created it, so
// that one left behind by a creator killed before anybody unlinked it (kill -9 during init) can
// be found and removed by the next process that creates segments.
std::string ownedShmName(const std::string& what);
// Unlinks this user's owned segments whose creator no longer runs (same pid namespace only);
// returns how many.
int removeStaleShmSegments();

class ShmSegment {
 public:
  ShmSegment() = default;
  ShmSegment(ShmSegment&& o) noexcept { *this = std::move(o); }
  ShmSegment& operator=(ShmSegment&& o) noexcept;
  ShmSegment(const ShmSegment&) = delete;
  ShmSegment& operator=(const ShmSegment&) = delete;
  ~ShmSegment();

  // Creates (exclusively) and maps `bytes`; binds the pages to `numaNode` when >= 0. Name it
  // with ownedName(). The first call of a process removes the segments of dead creators.
  static ncclResult_t create(const std::string& name, size_t bytes, int numaNode, ShmSegment* out);
  static ncclResult_t open(const std::string& name, size_t bytes, ShmSegment* out);
  // Removes the name; the mapping stays valid until every process unmaps it.
  void unlink();

  void* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& name() const { return name_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  std::string name_;
  bool linked_ = false;
};

}  // namespace tccl
