// Placing a transport buffer on a NUMA node (hwloc), shared by the host transports.
#pragma once

#include <cstddef>

namespace tccl {

enum class NumaBinding { kBound, kNoSuchNode, kFailed };

// Binds the pages of [data, data + bytes) to NUMA node `numaNode` (migrating any already
// touched). kNoSuchNode where the machine lacks that node: the placement is then simulated.
NumaBinding bindToNumaNode(void* data, size_t bytes, int numaNode);

}  // namespace tccl
