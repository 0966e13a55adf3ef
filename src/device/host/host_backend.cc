#include "device/device_backend.h"
#include "device/host/host_reduce.h"

namespace tccl {
namespace {

// Buffers are CPU memory; every data step runs on the calling thread.
class HostBackend final : public DeviceBackend {
 public:
  std::string_view name() const override { return "host"; }
  ncclResult_t run(const ReduceSpec& spec, const DataStep& step) override {
    return hostReduceCopy(spec, step);
  }
};

}  // namespace

std::unique_ptr<DeviceBackend> makeHostBackend() {
  return std::make_unique<HostBackend>();
}

}  // namespace tccl
