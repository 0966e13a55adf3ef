#include "device/device_backend.h"
#include "device/host/host_reduce.h"

#include <cstring>
#include <memory>

namespace tccl {
namespace {

// Buffers are CPU memory; every data step runs on the calling thread.
class HostBackend final : public DeviceBackend {
 public:
  std::string_view name() const override { return "host"; }
  ncclResult_t run(const ReduceSpec& spec, const DataStep& step) override {
    return hostReduceCopy(spec, step);
  }
  ncclResult_t allocScratch(size_t bytes, std::shared_ptr<void>* out) override {
    *out = std::make_shared_for_overwrite<char[]>(bytes);
    return ncclSuccess;
  }
  ncclResult_t stageCopy(const void* src, size_t bytes, cudaStream_t,
                         std::shared_ptr<void>* out) override {
    auto copy = std::make_shared_for_overwrite<char[]>(bytes);
    if (bytes) memcpy(copy.get(), src, bytes);
    *out = std::move(copy);
    return ncclSuccess;
  }
};

}  // namespace

std::unique_ptr<DeviceBackend> makeHostBackend() {
  return std::make_unique<HostBackend>();
}

}  // namespace tccl
