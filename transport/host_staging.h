// Page-aligned host memory for a transport's slots, placed on the NUMA node its hop names.
// The plugin net hop stages through it; any host-staged transport can.
#pragma once

#include <nccl.h>

#include <cstddef>

namespace tccl {

class HostStaging {
 public:
  HostStaging() = default;
  HostStaging(HostStaging&& o) noexcept : data_(o.data_), bytes_(o.bytes_) {
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  HostStaging& operator=(HostStaging&& o) noexcept;
  HostStaging(const HostStaging&) = delete;
  HostStaging& operator=(const HostStaging&) = delete;
  ~HostStaging() { reset(); }

  // numaNode < 0: first touch. A node the machine lacks is logged and ignored (the placement
  // is then simulated, as everywhere in TCCL). `what` names the buffer in messages.
  static ncclResult_t allocate(size_t bytes, int numaNode, const char* what, HostStaging* out);

  char* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  void reset();

 private:
  char* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace tccl
