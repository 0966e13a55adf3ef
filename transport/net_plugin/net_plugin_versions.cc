// NetOps for each ABI version: one template over the exported table, with the differences
// between versions spelled out where they occur.
#include <array>
#include <climits>
#include <cstdint>

#include "transport/net_plugin/net_plugin.h"
#include "transport/net_plugin/net_plugin_ops.h"

namespace tccl {
namespace {

using namespace netabi;

// One ABI version: its table, its properties struct and its number.
template <class TableT, class PropertiesT, int Version>
struct Abi {
  using Table = TableT;
  using Properties = PropertiesT;
  static constexpr int kVersion = Version;
};
using AbiV6 = Abi<NetV6, PropertiesV6, 6>;
using AbiV7 = Abi<NetV7, PropertiesV7, 7>;
using AbiV8 = Abi<NetV8, PropertiesV8, 8>;
using AbiV9 = Abi<NetV9, PropertiesV9, 9>;
using AbiV10 = Abi<NetV10, PropertiesV10, 10>;

template <class A>
class VersionedOps final : public NetOps {
  using Table = typename A::Table;
  static constexpr int V = A::kVersion;
  // v6 to v8 carry message sizes as int.
  static constexpr bool kIntSizes = V <= 8;

 public:
  explicit VersionedOps(const Table* table) : t_(table) {}

  int version() const override { return V; }
  const char* name() const override { return t_->name; }

  const char* missingFunction() const override {
    const std::pair<const char*, bool> required[] = {
        {"name", t_->name != nullptr},           {"init", t_->init != nullptr},
        {"devices", t_->devices != nullptr},     {"getProperties", t_->getProperties != nullptr},
        {"listen", t_->listen != nullptr},       {"connect", t_->connect != nullptr},
        {"accept", t_->accept != nullptr},       {"regMr", t_->regMr != nullptr},
        {"deregMr", t_->deregMr != nullptr},     {"isend", t_->isend != nullptr},
        {"irecv", t_->irecv != nullptr},         {"iflush", t_->iflush != nullptr},
        {"test", t_->test != nullptr},           {"closeSend", t_->closeSend != nullptr},
        {"closeRecv", t_->closeRecv != nullptr}, {"closeListen", t_->closeListen != nullptr},
    };
    for (const auto& [fn, present] : required)
      if (!present) return fn;
    return nullptr;
  }

  int maxRequests() const override { return V <= 6 ? kMaxRequestsV6 : kMaxRequests; }
  size_t maxMessageBytes() const override { return kIntSizes ? kMaxIntAbiMessageBytes : SIZE_MAX; }
  size_t maxRegistrationBytes() const override {
    return V <= 7 ? static_cast<size_t>(INT_MAX) : SIZE_MAX;
  }

  ncclResult_t init(Logger logger, ProfilerCallback profiler) override {
    if constexpr (V >= 10) {
      return t_->init(logger, profiler);
    } else {
      (void)profiler;
      return t_->init(logger);
    }
  }

  ncclResult_t devices(int* ndev) override { return t_->devices(ndev); }

  ncclResult_t getProperties(int dev, NetDeviceProperties* out) override {
    typename A::Properties p{};
    ncclResult_t res = t_->getProperties(dev, &p);
    if (res != ncclSuccess) return res;
    NetDeviceProperties d;
    d.name = p.name ? p.name : "";
    d.pciPath = p.pciPath ? p.pciPath : "";
    d.guid = p.guid;
    d.ptrSupport = p.ptrSupport;
    d.speedMbps = p.speed;
    d.port = p.port;
    d.latencyUs = p.latency;
    d.maxComms = p.maxComms;
    d.maxRecvs = p.maxRecvs;
    d.fusedDevices = {dev};
    if constexpr (V >= 7) {
      d.netDeviceType = p.netDeviceType;
      d.netDeviceVersion = p.netDeviceVersion;
    }
    if constexpr (V >= 8) d.regIsGlobal = p.regIsGlobal != 0;
    if constexpr (V >= 9) {
      d.forceFlush = p.forceFlush != 0;
      if (p.vProps.ndevs > 0 && p.vProps.ndevs <= kMaxDevsPerVirtualNic)
        d.fusedDevices.assign(p.vProps.devs, p.vProps.devs + p.vProps.ndevs);
      d.maxP2pBytes = p.maxP2pBytes;
      d.maxCollBytes = p.maxCollBytes;
    }
    *out = std::move(d);
    return ncclSuccess;
  }

  ncclResult_t listen(int dev, void* handle, void** listenComm) override {
    return t_->listen(dev, handle, listenComm);
  }

  // TCCL never asks for device offload: from v7 on it passes a null device handle, as NCCL
  // does for host-side networking.
  ncclResult_t connect(int dev, void* handle, void** sendComm) override {
    if constexpr (V == 6) {
      return t_->connect(dev, handle, sendComm);
    } else if constexpr (V < 10) {
      DeviceHandle* none = nullptr;
      return t_->connect(dev, handle, sendComm, &none);
    } else {
      DeviceHandle* none = nullptr;
      CommConfigV10 config{kTrafficClassUndefined};
      return t_->connect(dev, &config, handle, sendComm, &none);
    }
  }

  ncclResult_t accept(void* listenComm, void** recvComm) override {
    if constexpr (V == 6) {
      return t_->accept(listenComm, recvComm);
    } else {
      DeviceHandle* none = nullptr;
      return t_->accept(listenComm, recvComm, &none);
    }
  }

  ncclResult_t regMr(void* comm, void* data, size_t size, int type, void** mhandle) override {
    if constexpr (V <= 7) {
      if (size > static_cast<size_t>(INT_MAX)) return ncclInternalError;
      return t_->regMr(comm, data, static_cast<int>(size), type, mhandle);
    } else {
      return t_->regMr(comm, data, size, type, mhandle);
    }
  }

  bool hasRegMrDmaBuf() const override { return t_->regMrDmaBuf != nullptr; }
  ncclResult_t regMrDmaBuf(void* comm, void* data, size_t size, int type, uint64_t offset, int fd,
                           void** mhandle) override {
    if (!t_->regMrDmaBuf) return ncclInternalError;
    return t_->regMrDmaBuf(comm, data, size, type, offset, fd, mhandle);
  }

  ncclResult_t deregMr(void* comm, void* mhandle) override { return t_->deregMr(comm, mhandle); }

  ncclResult_t isend(void* sendComm, void* data, size_t size, int tag, void* mhandle,
                     void** request) override {
    if constexpr (kIntSizes) {
      if (size > kMaxIntAbiMessageBytes) return ncclInternalError;
      return t_->isend(sendComm, data, static_cast<int>(size), tag, mhandle, request);
    } else if constexpr (V == 9) {
      return t_->isend(sendComm, data, size, tag, mhandle, request);
    } else {
      return t_->isend(sendComm, data, size, tag, mhandle, nullptr, request);
    }
  }

  ncclResult_t irecv(void* recvComm, int n, void** data, const size_t* sizes, int* tags,
                     void** mhandles, void** request) override {
    if (n < 1 || n > kMaxGroupedRecvs) return ncclInternalError;
    if constexpr (kIntSizes) {
      std::array<int, kMaxGroupedRecvs> intSizes{};
      for (int i = 0; i < n; ++i) {
        if (sizes[i] > kMaxIntAbiMessageBytes) return ncclInternalError;
        intSizes[static_cast<size_t>(i)] = static_cast<int>(sizes[i]);
      }
      return t_->irecv(recvComm, n, data, intSizes.data(), tags, mhandles, request);
    } else {
      // The ABI takes a non-const array; the plugin reads it only.
      std::array<size_t, kMaxGroupedRecvs> copy{};
      for (int i = 0; i < n; ++i) copy[static_cast<size_t>(i)] = sizes[i];
      if constexpr (V == 9) {
        return t_->irecv(recvComm, n, data, copy.data(), tags, mhandles, request);
      } else {
        // Some plugins index the profiler handles without checking the array: give n nulls.
        std::array<void*, kMaxGroupedRecvs> noProfiler{};
        return t_->irecv(recvComm, n, data, copy.data(), tags, mhandles, noProfiler.data(),
                         request);
      }
    }
  }

  ncclResult_t iflush(void* recvComm, int n, void** data, int* sizes, void** mhandles,
                      void** request) override {
    return t_->iflush(recvComm, n, data, sizes, mhandles, request);
  }

  ncclResult_t test(void* request, int* done, int* sizes) override {
    return t_->test(request, done, sizes);
  }

  ncclResult_t closeSend(void* comm) override { return t_->closeSend(comm); }
  ncclResult_t closeRecv(void* comm) override { return t_->closeRecv(comm); }
  ncclResult_t closeListen(void* comm) override { return t_->closeListen(comm); }

  bool hasMakeVDevice() const override {
    if constexpr (V >= 9) return t_->makeVDevice != nullptr;
    return false;
  }
  ncclResult_t makeVDevice(int* dev, const VirtualDeviceProps& props) override {
    if constexpr (V >= 9) {
      if (!t_->makeVDevice) return ncclInvalidUsage;
      VirtualDeviceProps copy = props;
      return t_->makeVDevice(dev, &copy);
    } else {
      (void)dev;
      (void)props;
      return ncclInvalidUsage;
    }
  }

 private:
  const Table* t_;
};

template <class A>
std::unique_ptr<NetOps> wrap(const void* table) {
  return std::make_unique<VersionedOps<A>>(static_cast<const typename A::Table*>(table));
}

}  // namespace

std::unique_ptr<NetOps> makeNetOps(int version, const void* table) {
  if (!table) return nullptr;
  switch (version) {
    case 6:
      return wrap<AbiV6>(table);
    case 7:
      return wrap<AbiV7>(table);
    case 8:
      return wrap<AbiV8>(table);
    case 9:
      return wrap<AbiV9>(table);
    case 10:
      return wrap<AbiV10>(table);
    default:
      return nullptr;
  }
}

}  // namespace tccl
