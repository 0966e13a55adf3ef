// Caller memory whose lifetime TCCL knows: what ncclMemAlloc handed out on the host backend
// and what ncclCommRegister announced, each until its ncclMemFree or ncclCommDeregister. A hop
// that must register memory with its network before the network may read it (an NCCL net
// plugin) sends straight from such a region, registering it once (NCCL's local buffer
// registration). It never does so for other caller memory: freed and allocated again, the
// same addresses would then be read through a stale registration.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace tccl {

struct CallerRegion {
  uint64_t id = 0;  // never reused: a region freed and allocated again at the same address
                    // is a new region
  char* base = nullptr;
  size_t bytes = 0;
};

class CallerMemory {
 public:
  // The one table of this process.
  static CallerMemory& process();

  uint64_t add(void* base, size_t bytes);  // returns the region's id
  void remove(uint64_t id);
  // The region holding all of [p, p + bytes), if any (the smallest, where they overlap).
  std::optional<CallerRegion> find(const void* p, size_t bytes) const;
  bool alive(uint64_t id) const;
  // Changes at every remove: holders of registrations look for dead regions only then.
  uint64_t removals() const { return removals_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::vector<CallerRegion> regions_;  // few: a linear search is cheaper than a tree
  uint64_t nextId_ = 1;
  std::atomic<uint64_t> removals_{0};
};

}  // namespace tccl
