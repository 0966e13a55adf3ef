#include "device/cuda/device_user_memory.h"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <map>
#include <mutex>

#include "base/error.h"
#include "device/cuda/cuda_check.h"
#include "device/cuda/driver_entry.h"

namespace tccl {
namespace {

// The driver functions of the VMM API (CUDA 10.2 ABI; cuDeviceGet* 2.0, cuGetErrorString 6.0).
struct VmmApi {
  PFN_cuDeviceGet_v2000 deviceGet = nullptr;
  PFN_cuDeviceGetAttribute_v2000 deviceGetAttribute = nullptr;
  PFN_cuMemGetAllocationGranularity_v10020 granularity = nullptr;
  PFN_cuMemCreate_v10020 create = nullptr;
  PFN_cuMemRelease_v10020 release = nullptr;
  PFN_cuMemAddressReserve_v10020 reserve = nullptr;
  PFN_cuMemAddressFree_v10020 addressFree = nullptr;
  PFN_cuMemMap_v10020 map = nullptr;
  PFN_cuMemUnmap_v10020 unmap = nullptr;
  PFN_cuMemSetAccess_v10020 setAccess = nullptr;
  PFN_cuGetErrorString_v6000 errorString = nullptr;
};

template <typename Fn>
bool load(const char* symbol, unsigned version, Fn* fn) {
  void* p = nullptr;
  if (loadDriverFunction(symbol, version, &p) != cudaSuccess) return false;
  *fn = reinterpret_cast<Fn>(p);
  return true;
}

// Null when the driver lacks any of them.
const VmmApi* vmmApi() {
  static const VmmApi* api = []() -> const VmmApi* {
    static VmmApi a;
    const bool ok =
        load("cuDeviceGet", 2000, &a.deviceGet) &&
        load("cuDeviceGetAttribute", 2000, &a.deviceGetAttribute) &&
        load("cuMemGetAllocationGranularity", 10020, &a.granularity) &&
        load("cuMemCreate", 10020, &a.create) && load("cuMemRelease", 10020, &a.release) &&
        load("cuMemAddressReserve", 10020, &a.reserve) &&
        load("cuMemAddressFree", 10020, &a.addressFree) && load("cuMemMap", 10020, &a.map) &&
        load("cuMemUnmap", 10020, &a.unmap) && load("cuMemSetAccess", 10020, &a.setAccess) &&
        load("cuGetErrorString", 6000, &a.errorString);
    (void)cudaGetLastError();  // a failed lookup must not be blamed on the next runtime call
    return ok ? &a : nullptr;
  }();
  return api;
}

ncclResult_t driverFailure(const VmmApi& api, CUresult res, const char* call) {
  const char* text = nullptr;
  if (api.errorString(res, &text) != CUDA_SUCCESS || !text) text = "unknown error";
  return setError(ncclUnhandledCudaError, "CUDA driver call %s failed: %s (CUresult %d)", call,
                  text, static_cast<int>(res));
}

#define TCCL_CU_CHECK(api, call)                                                      \
  do {                                                                                \
    CUresult tccl_cu_res_ = (call);                                                   \
    if (tccl_cu_res_ != CUDA_SUCCESS) return driverFailure(api, tccl_cu_res_, #call); \
  } while (0)

// A VMM allocation: physical handle, reserved range, mapping. Owns what it has set up; the
// destructor undoes it unless the allocation was kept.
class VmmAllocation {
 public:
  explicit VmmAllocation(const VmmApi& api) : api_(api) {}
  VmmAllocation(const VmmApi& api, CUmemGenericAllocationHandle handle, CUdeviceptr ptr,
                size_t bytes)
      : api_(api),
        bytes_(bytes),
        handle_(handle),
        ptr_(ptr),
        created_(true),
        reserved_(true),
        mapped_(true) {}
  VmmAllocation(const VmmAllocation&) = delete;
  VmmAllocation& operator=(const VmmAllocation&) = delete;
  ~VmmAllocation() { (void)release(); }

  ncclResult_t create(int dev, size_t bytes) {
    CUdevice cuDev = 0;
    TCCL_CU_CHECK(api_, api_.deviceGet(&cuDev, dev));
    CUmemAllocationProp prop = {};
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = cuDev;
    prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
    int rdma = 0;
    if (api_.deviceGetAttribute(&rdma, CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WITH_CUDA_VMM_SUPPORTED,
                                cuDev) == CUDA_SUCCESS &&
        rdma)
      prop.allocFlags.gpuDirectRDMACapable = 1;
    size_t granularity = 0;
    TCCL_CU_CHECK(api_,
                  api_.granularity(&granularity, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED));
    bytes_ = (bytes + granularity - 1) / granularity * granularity;
    TCCL_CU_CHECK(api_, api_.create(&handle_, bytes_, &prop, 0));
    created_ = true;
    TCCL_CU_CHECK(api_, api_.reserve(&ptr_, bytes_, granularity, 0, 0));
    reserved_ = true;
    TCCL_CU_CHECK(api_, api_.map(ptr_, bytes_, 0, handle_, 0));
    mapped_ = true;
    return grantAccess(dev);
  }

  // Unmaps, frees the range and releases the handle; the first failure is returned.
  ncclResult_t release() {
    CUresult first = CUDA_SUCCESS;
    const char* what = nullptr;
    auto step = [&](bool& done, CUresult res, const char* call) {
      if (done && res != CUDA_SUCCESS && first == CUDA_SUCCESS) {
        first = res;
        what = call;
      }
      done = false;
    };
    if (mapped_) step(mapped_, api_.unmap(ptr_, bytes_), "cuMemUnmap");
    if (reserved_) step(reserved_, api_.addressFree(ptr_, bytes_), "cuMemAddressFree");
    if (created_) step(created_, api_.release(handle_), "cuMemRelease");
    return first == CUDA_SUCCESS ? ncclSuccess : driverFailure(api_, first, what);
  }

  // Leaves the allocation in place past this object's life.
  void keep() { created_ = reserved_ = mapped_ = false; }

  void* pointer() const { return reinterpret_cast<void*>(ptr_); }
  CUmemGenericAllocationHandle handle() const { return handle_; }
  size_t bytes() const { return bytes_; }

 private:
  // Read and write access for this device and every device that reaches it peer to peer.
  ncclResult_t grantAccess(int dev) {
    int count = 0;
    TCCL_CUDA_CHECK(cudaGetDeviceCount(&count));
    for (int d = 0; d < count; ++d) {
      int p2p = 0;
      if (d != dev && (cudaDeviceCanAccessPeer(&p2p, d, dev) != cudaSuccess || !p2p)) {
        (void)cudaGetLastError();
        continue;
      }
      CUmemAccessDesc access = {};
      access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
      access.location.id = d;
      access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
      TCCL_CU_CHECK(api_, api_.setAccess(ptr_, bytes_, &access, 1));
    }
    return ncclSuccess;
  }

  const VmmApi& api_;
  size_t bytes_ = 0;
  CUmemGenericAllocationHandle handle_ = 0;
  CUdeviceptr ptr_ = 0;
  bool created_ = false, reserved_ = false, mapped_ = false;
};

struct Allocation {
  bool vmm = false;
  size_t bytes = 0;  // VMM: the mapped size (rounded up to the granularity)
  CUmemGenericAllocationHandle handle = 0;
};

std::mutex gMutex;
std::map<void*, Allocation>& allocations() {
  static std::map<void*, Allocation> m;
  return m;
}

}  // namespace

bool deviceVmmSupported(int dev) {
  const VmmApi* api = vmmApi();
  CUdevice cuDev = 0;
  int vmm = 0, fd = 0;
  return api && api->deviceGet(&cuDev, dev) == CUDA_SUCCESS &&
         api->deviceGetAttribute(&vmm, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED,
                                 cuDev) == CUDA_SUCCESS &&
         vmm &&
         api->deviceGetAttribute(&fd,
                                 CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED,
                                 cuDev) == CUDA_SUCCESS &&
         fd;
}

ncclResult_t allocDeviceUserMemory(bool vmm, size_t bytes, void** out) {
  if (!vmm) {
    void* p = nullptr;
    TCCL_CUDA_CHECK(cudaMalloc(&p, bytes));
    std::lock_guard<std::mutex> lock(gMutex);
    allocations()[p] = Allocation{false, bytes, 0};
    *out = p;
    return ncclSuccess;
  }
  const VmmApi* api = vmmApi();
  if (!api) return setError(ncclUnhandledCudaError, "ncclMemAlloc: the driver lacks the VMM API");
  int dev = -1;
  TCCL_CUDA_CHECK(cudaGetDevice(&dev));
  VmmAllocation allocation(*api);
  TCCL_CHECK(allocation.create(dev, bytes));
  std::lock_guard<std::mutex> lock(gMutex);
  allocations()[allocation.pointer()] = Allocation{true, allocation.bytes(), allocation.handle()};
  *out = allocation.pointer();
  allocation.keep();
  return ncclSuccess;
}

ncclResult_t freeDeviceUserMemory(void* ptr, bool* owned) {
  Allocation entry;
  {
    std::lock_guard<std::mutex> lock(gMutex);
    auto it = allocations().find(ptr);
    *owned = it != allocations().end();
    if (!*owned) return ncclSuccess;
    entry = it->second;
    allocations().erase(it);
  }
  if (!entry.vmm) {
    TCCL_CUDA_CHECK(cudaFree(ptr));
    return ncclSuccess;
  }
  VmmAllocation allocation(*vmmApi(), entry.handle, reinterpret_cast<CUdeviceptr>(ptr),
                           entry.bytes);
  return allocation.release();
}

}  // namespace tccl
