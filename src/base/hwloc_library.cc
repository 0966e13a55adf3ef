#include "base/hwloc_library.h"

#include <dlfcn.h>
#include <hwloc.h>

#include <cerrno>

#include "base/env.h"
#include "base/log.h"

#define TCCL_HIDDEN __attribute__((visibility("hidden")))

// Every hwloc function that TCCL's objects call (hwloc.h's inline helpers included). A new
// one shows up as an undefined symbol when libtccl.so or a program links: add it here and
// below.
#define TCCL_HWLOC_ENTRY_POINTS(X)      \
  X(hwloc_get_api_version)              \
  X(hwloc_topology_init)                \
  X(hwloc_topology_load)                \
  X(hwloc_topology_destroy)             \
  X(hwloc_topology_set_io_types_filter) \
  X(hwloc_get_type_depth)               \
  X(hwloc_get_nbobjs_by_depth)          \
  X(hwloc_get_obj_by_depth)             \
  X(hwloc_bitmap_first)                 \
  X(hwloc_set_area_membind)             \
  X(hwloc_alloc_membind)                \
  X(hwloc_free)

namespace tccl {
namespace {

struct HwlocApi {
#define TCCL_HWLOC_MEMBER(name) decltype(&::name) name = nullptr;
  TCCL_HWLOC_ENTRY_POINTS(TCCL_HWLOC_MEMBER)
#undef TCCL_HWLOC_MEMBER
};

struct LoadResult {
  const HwlocApi* api = nullptr;
  std::string why;
};

// hwloc 2.x keeps soname 15 and the ABI of its major API version.
constexpr const char* kDefaultLibrary = "libhwloc.so.15";

LoadResult load() {
  static HwlocApi api;
  const std::string name = envString("TCCL_HWLOC_LIBRARY", kDefaultLibrary);
  void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    return {nullptr, err ? err : name + " cannot be opened"};
  }
  // The handle stays open for the life of the process: topologies outlive any caller.
#define TCCL_HWLOC_RESOLVE(fn)                                                  \
  api.fn = reinterpret_cast<decltype(api.fn)>(dlsym(handle, #fn));              \
  if (!api.fn) {                                                                \
    dlclose(handle);                                                            \
    return {nullptr, name + " lacks " #fn ": it is not hwloc 2 or is damaged"}; \
  }
  TCCL_HWLOC_ENTRY_POINTS(TCCL_HWLOC_RESOLVE)
#undef TCCL_HWLOC_RESOLVE
  const unsigned version = api.hwloc_get_api_version();
  if ((version >> 16) != (HWLOC_API_VERSION >> 16)) {
    dlclose(handle);
    return {nullptr, name + " has hwloc API version " + std::to_string(version >> 16) + ".x, " +
                         "TCCL was built for " + std::to_string(HWLOC_API_VERSION >> 16) + ".x"};
  }
  return {&api, ""};
}

const LoadResult& loaded() {
  static const LoadResult result = [] {
    LoadResult r = load();
    if (!r.api)
      WARN(
          "libhwloc cannot be loaded (%s): TCCL runs without NUMA binding of its buffers and "
          "without live topology discovery; install hwloc 2 or set TCCL_HWLOC_LIBRARY to it",
          r.why.c_str());
    return r;
  }();
  return result;
}

const HwlocApi* api() {
  return loaded().api;
}

}  // namespace

bool hwlocLibraryLoaded(std::string* why) {
  const LoadResult& r = loaded();
  if (!r.api && why) *why = r.why;
  return r.api != nullptr;
}

}  // namespace tccl

// The entry points: without the library they fail the way hwloc reports errors.
extern "C" {

TCCL_HIDDEN unsigned hwloc_get_api_version(void) {
  const tccl::HwlocApi* a = tccl::api();
  return a ? a->hwloc_get_api_version() : 0;
}

TCCL_HIDDEN int hwloc_topology_init(hwloc_topology_t* topology) {
  const tccl::HwlocApi* a = tccl::api();
  if (a) return a->hwloc_topology_init(topology);
  errno = ENOSYS;
  return -1;
}

TCCL_HIDDEN int hwloc_topology_load(hwloc_topology_t topology) {
  const tccl::HwlocApi* a = tccl::api();
  if (a) return a->hwloc_topology_load(topology);
  errno = ENOSYS;
  return -1;
}

TCCL_HIDDEN void hwloc_topology_destroy(hwloc_topology_t topology) {
  const tccl::HwlocApi* a = tccl::api();
  if (a) a->hwloc_topology_destroy(topology);
}

TCCL_HIDDEN int hwloc_topology_set_io_types_filter(hwloc_topology_t topology,
                                                   enum hwloc_type_filter_e filter) {
  const tccl::HwlocApi* a = tccl::api();
  return a ? a->hwloc_topology_set_io_types_filter(topology, filter) : -1;
}

TCCL_HIDDEN int hwloc_get_type_depth(hwloc_topology_t topology, hwloc_obj_type_t type) {
  const tccl::HwlocApi* a = tccl::api();
  return a ? a->hwloc_get_type_depth(topology, type) : HWLOC_TYPE_DEPTH_UNKNOWN;
}

TCCL_HIDDEN unsigned hwloc_get_nbobjs_by_depth(hwloc_topology_t topology, int depth) {
  const tccl::HwlocApi* a = tccl::api();
  return a ? a->hwloc_get_nbobjs_by_depth(topology, depth) : 0;
}

TCCL_HIDDEN hwloc_obj_t hwloc_get_obj_by_depth(hwloc_topology_t topology, int depth, unsigned idx) {
  const tccl::HwlocApi* a = tccl::api();
  return a ? a->hwloc_get_obj_by_depth(topology, depth, idx) : nullptr;
}

TCCL_HIDDEN int hwloc_bitmap_first(hwloc_const_bitmap_t bitmap) {
  const tccl::HwlocApi* a = tccl::api();
  return a ? a->hwloc_bitmap_first(bitmap) : -1;
}

TCCL_HIDDEN int hwloc_set_area_membind(hwloc_topology_t topology, const void* addr, size_t len,
                                       hwloc_const_bitmap_t set, hwloc_membind_policy_t policy,
                                       int flags) {
  const tccl::HwlocApi* a = tccl::api();
  if (a) return a->hwloc_set_area_membind(topology, addr, len, set, policy, flags);
  errno = ENOSYS;
  return -1;
}

TCCL_HIDDEN void* hwloc_alloc_membind(hwloc_topology_t topology, size_t len,
                                      hwloc_const_bitmap_t set, hwloc_membind_policy_t policy,
                                      int flags) {
  const tccl::HwlocApi* a = tccl::api();
  if (a) return a->hwloc_alloc_membind(topology, len, set, policy, flags);
  errno = ENOSYS;
  return nullptr;
}

TCCL_HIDDEN int hwloc_free(hwloc_topology_t topology, void* addr, size_t len) {
  const tccl::HwlocApi* a = tccl::api();
  if (a) return a->hwloc_free(topology, addr, len);
  errno = ENOSYS;
  return -1;
}

}  // extern "C"
