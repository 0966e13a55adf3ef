#include "transport/caller_memory.h"

#include <algorithm>

namespace tccl {

CallerMemory& CallerMemory::process() {
  static CallerMemory table;
  return table;
}

uint64_t CallerMemory::add(void* base, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t id = nextId_++;
  regions_.push_back(CallerRegion{id, static_cast<char*>(base), bytes});
  return id;
}

void CallerMemory::remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(regions_, [id](const CallerRegion& r) { return r.id == id; });
  removals_.fetch_add(1, std::memory_order_acq_rel);
}

std::optional<CallerRegion> CallerMemory::find(const void* p, size_t bytes) const {
  const char* begin = static_cast<const char*>(p);
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<CallerRegion> best;
  for (const CallerRegion& r : regions_) {
    const bool holds = begin >= r.base && bytes <= r.bytes &&
                       static_cast<size_t>(begin - r.base) <= r.bytes - bytes;
    if (holds && (!best || r.bytes < best->bytes)) best = r;
  }
  return best;
}

bool CallerMemory::alive(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::any_of(regions_.begin(), regions_.end(),
                     [id](const CallerRegion& r) { return r.id == id; });
}

}  // namespace tccl
