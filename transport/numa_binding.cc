#include "transport/numa_binding.h"

#include <hwloc.h>

#include <mutex>

namespace tccl {
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
}  // namespace

NumaBinding bindToNumaNode(void* data, size_t bytes, int numaNode) {
  static std::mutex mutex;  // hwloc topologies are not thread-safe
  std::lock_guard<std::mutex> lock(mutex);
  hwloc_topology_t topo = machineTopology();
  hwloc_obj_t node =
      topo ? hwloc_get_numanode_obj_by_os_index(topo, static_cast<unsigned>(numaNode)) : nullptr;
  if (!node) return NumaBinding::kNoSuchNode;
  return hwloc_set_area_membind(topo, data, bytes, node->nodeset, HWLOC_MEMBIND_BIND,
                                HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_MIGRATE) == 0
             ? NumaBinding::kBound
             : NumaBinding::kFailed;
}

}  // namespace tccl
