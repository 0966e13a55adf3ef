// libhwloc, loaded on first use. libtccl.so and libnccl.so.2 must load wherever the real
// libnccl does (a stock PyTorch container has no libhwloc), and the tools and test programs
// must run from a bundle on a machine without it, so nothing links it: the hwloc entry points
// that TCCL calls are defined in hwloc_library.cc (hidden) and forward to the library that
// dlopen finds, TCCL_HWLOC_LIBRARY or libhwloc.so.15. Where it is missing, the entry points
// fail as hwloc does on error, after one NCCL WARN line per process: buffers are then not
// bound to NUMA nodes and the live topology cannot be discovered.
#pragma once

#include <string>

namespace tccl {

// Loads libhwloc once per process; false (and why) when it cannot be used.
bool hwlocLibraryLoaded(std::string* why = nullptr);

}  // namespace tccl
