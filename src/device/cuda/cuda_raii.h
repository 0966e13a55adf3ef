// Owning wrappers for CUDA handles (streams, events, allocations, registrations, IPC
// mappings). Creation returns the cudaError_t; callers turn it into an ncclResult_t.
#pragma once

#include <cuda_runtime.h>

#include <utility>

namespace tccl {

template <typename T, cudaError_t (*Destroy)(T)>
class CudaResource {
 public:
  CudaResource() = default;
  explicit CudaResource(T handle) : handle_(handle) {}
  CudaResource(CudaResource&& o) noexcept : handle_(std::exchange(o.handle_, T{})) {}
  CudaResource& operator=(CudaResource&& o) noexcept {
    reset(std::exchange(o.handle_, T{}));
    return *this;
  }
  CudaResource(const CudaResource&) = delete;
  CudaResource& operator=(const CudaResource&) = delete;
  ~CudaResource() { reset(); }

  T get() const { return handle_; }
  explicit operator bool() const { return handle_ != T{}; }
  // Errors on destruction cannot be reported; a sticky context error shows up elsewhere.
  void reset(T handle = T{}) {
    if (handle_ != T{}) (void)Destroy(handle_);
    handle_ = handle;
  }

 private:
  T handle_{};
};

using CudaStream = CudaResource<cudaStream_t, cudaStreamDestroy>;
using CudaEvent = CudaResource<cudaEvent_t, cudaEventDestroy>;
using DeviceMemory = CudaResource<void*, cudaFree>;
using HostRegistration = CudaResource<void*, cudaHostUnregister>;
using IpcMapping = CudaResource<void*, cudaIpcCloseMemHandle>;

// Internal streams never synchronise with the legacy default stream: a user's work there
// may be waiting for us.
inline cudaError_t createStream(CudaStream* out) {
  cudaStream_t s = nullptr;
  cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  if (e == cudaSuccess) *out = CudaStream(s);
  return e;
}

inline cudaError_t createEvent(CudaEvent* out, unsigned flags = cudaEventDisableTiming) {
  cudaEvent_t ev = nullptr;
  cudaError_t e = cudaEventCreateWithFlags(&ev, flags);
  if (e == cudaSuccess) *out = CudaEvent(ev);
  return e;
}

inline cudaError_t allocDevice(size_t bytes, DeviceMemory* out) {
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaSuccess) *out = DeviceMemory(p);
  return e;
}

// Pins host memory and maps it into the device address space; `devicePtr` is where kernels
// and stream memory operations reach it.
inline cudaError_t registerHost(void* p, size_t bytes, HostRegistration* out, void** devicePtr) {
  cudaError_t e = cudaHostRegister(p, bytes, cudaHostRegisterMapped | cudaHostRegisterPortable);
  if (e != cudaSuccess) return e;
  *out = HostRegistration(p);
  return cudaHostGetDevicePointer(devicePtr, p, 0);
}

inline cudaError_t openIpc(const cudaIpcMemHandle_t& handle, IpcMapping* out) {
  void* p = nullptr;
  cudaError_t e = cudaIpcOpenMemHandle(&p, handle, cudaIpcMemLazyEnablePeerAccess);
  if (e == cudaSuccess) *out = IpcMapping(p);
  return e;
}

// Makes `dev` current for the scope and restores the previous device.
class DeviceGuard {
 public:
  explicit DeviceGuard(int dev) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    status_ = previous_ == dev ? cudaSuccess : cudaSetDevice(dev);
  }
  ~DeviceGuard() {
    if (previous_ >= 0 && status_ == cudaSuccess) (void)cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;
  cudaError_t status() const { return status_; }

 private:
  int previous_ = -1;
  cudaError_t status_ = cudaSuccess;
};

}  // namespace tccl
