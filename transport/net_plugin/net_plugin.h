// A loaded NCCL net plugin seen through one interface, whatever ABI version (v6 to v10) it
// exports: device properties in one shape, comms, memory registrations and requests as RAII
// handles. Calls return the plugin's own result codes and never record an error message:
// callers say what failed (they know the peer and the hop). Loading and choosing a plugin is
// net_plugin_loader.h's job.
#pragma once

#include <nccl.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "transport/net_plugin/net_plugin_abi.h"

namespace tccl {

class NetOps;
class NetPlugin;

// What getProperties reports for one device. Fields that an older ABI lacks hold what NCCL
// assumes for that version (no global registration, no forced flush, 1 GiB transfers).
struct NetDeviceProperties {
  std::string name;
  std::string pciPath;  // the device's /sys directory; empty for a virtual NIC
  uint64_t guid = 0;
  int ptrSupport = netabi::kPtrHost;
  bool regIsGlobal = false;
  bool forceFlush = false;
  int speedMbps = 0;
  int port = 0;
  float latencyUs = 0;
  int maxComms = 0;
  int maxRecvs = 1;
  int netDeviceType = netabi::kDeviceHost;
  int netDeviceVersion = 0;
  std::vector<int> fusedDevices;  // the physical devices behind a virtual NIC (v9+); else {dev}
  size_t maxP2pBytes = netabi::kMaxIntAbiMessageBytes;
  size_t maxCollBytes = size_t{512} << 20;
};

std::string describeNetDevice(int dev, const NetDeviceProperties& props);

// The listener's connect handle, exchanged between the two sides as bytes. A sender passes
// the same object to every connect() retry: plugins keep their connection progress in it.
struct NetHandle {
  alignas(16) unsigned char bytes[netabi::kHandleMaxBytes] = {};
};

enum class NetCommKind { kListen, kSend, kRecv };

// A plugin comm object, closed (closeListen/closeSend/closeRecv) when the handle goes.
template <NetCommKind Kind>
class NetComm {
 public:
  NetComm() = default;
  NetComm(std::shared_ptr<NetPlugin> net, void* comm) : net_(std::move(net)), comm_(comm) {}
  NetComm(NetComm&& o) noexcept : net_(std::move(o.net_)), comm_(o.comm_) { o.comm_ = nullptr; }
  NetComm& operator=(NetComm&& o) noexcept {
    if (this != &o) {
      reset();
      net_ = std::move(o.net_);
      comm_ = o.comm_;
      o.comm_ = nullptr;
    }
    return *this;
  }
  NetComm(const NetComm&) = delete;
  NetComm& operator=(const NetComm&) = delete;
  ~NetComm() { reset(); }

  void* get() const { return comm_; }
  explicit operator bool() const { return comm_ != nullptr; }
  // Closes now; a failing close is logged (there is nobody to return it to).
  void reset();

 private:
  std::shared_ptr<NetPlugin> net_;
  void* comm_ = nullptr;
};
using NetListenComm = NetComm<NetCommKind::kListen>;
using NetSendComm = NetComm<NetCommKind::kSend>;
using NetRecvComm = NetComm<NetCommKind::kRecv>;

// One regMr/regMrDmaBuf; deregMr when it goes. It must go before the comm it was made on.
class NetMemoryRegistration {
 public:
  NetMemoryRegistration() = default;
  NetMemoryRegistration(NetMemoryRegistration&& o) noexcept;
  NetMemoryRegistration& operator=(NetMemoryRegistration&& o) noexcept;
  NetMemoryRegistration(const NetMemoryRegistration&) = delete;
  NetMemoryRegistration& operator=(const NetMemoryRegistration&) = delete;
  ~NetMemoryRegistration() { reset(); }

  void* mhandle() const { return mhandle_; }  // null is a valid handle for some plugins
  explicit operator bool() const { return active_; }
  void reset();

 private:
  friend class NetPlugin;
  std::shared_ptr<NetPlugin> net_;
  void* comm_ = nullptr;
  void* mhandle_ = nullptr;
  bool active_ = false;
};

// A request in flight. The ABI has no way to cancel one: a request that never completes is
// released by closing its comm, so this handle only tracks whether test() may still be called.
class NetRequest {
 public:
  NetRequest() = default;
  NetRequest(NetRequest&& o) noexcept : req_(o.req_) { o.req_ = nullptr; }
  NetRequest& operator=(NetRequest&& o) noexcept {
    req_ = o.req_;
    o.req_ = nullptr;
    return *this;
  }
  NetRequest(const NetRequest&) = delete;
  NetRequest& operator=(const NetRequest&) = delete;
  bool pending() const { return req_ != nullptr; }

 private:
  friend class NetPlugin;
  void* req_ = nullptr;
};

// One buffer of an irecv (bytes: its capacity) or of an iflush (bytes: what arrived).
struct NetBuffer {
  void* data = nullptr;
  size_t bytes = 0;
  int tag = 0;
  const NetMemoryRegistration* registration = nullptr;
};

class NetPlugin : public std::enable_shared_from_this<NetPlugin> {
 public:
  // `library` keeps the shared object loaded; see net_plugin_loader.cc.
  NetPlugin(std::shared_ptr<void> library, std::string libraryPath, std::unique_ptr<NetOps> ops);
  ~NetPlugin();
  NetPlugin(const NetPlugin&) = delete;
  NetPlugin& operator=(const NetPlugin&) = delete;

  // init, devices and every device's properties, once per process. On failure *why says what.
  ncclResult_t initialize(std::string* why);

  const std::string& name() const { return name_; }  // the network's name: NCCL_NET matches it
  const std::string& library() const { return libraryPath_; }
  int abiVersion() const;
  int deviceCount() const { return static_cast<int>(devices_.size()); }
  const NetDeviceProperties& device(int dev) const { return devices_.at(static_cast<size_t>(dev)); }
  // Requests one comm must accept in flight (NCCL_NET_MAX_REQUESTS of the ABI version).
  int maxRequestsPerComm() const;
  // Largest single isend/irecv on `dev`: the device's maxP2pBytes within what the ABI can say.
  size_t maxMessageBytes(int dev) const;
  size_t maxRegistrationBytes() const;
  bool supportsDmaBuf(int dev) const;

  ncclResult_t listen(int dev, NetHandle* handle, NetListenComm* out);
  // Neither blocks: *out stays empty until the connection is made; call again (the same
  // handle for connect) until it is set.
  ncclResult_t connect(int dev, NetHandle* handle, NetSendComm* out);
  ncclResult_t accept(NetListenComm& listener, NetRecvComm* out);

  // ptrType: netabi::kPtrHost or kPtrCuda.
  template <NetCommKind Kind>
  ncclResult_t regMr(const NetComm<Kind>& comm, void* data, size_t bytes, int ptrType,
                     NetMemoryRegistration* out) {
    return registerOn(comm.get(), data, bytes, ptrType, -1, 0, out);
  }
  template <NetCommKind Kind>
  ncclResult_t regMrDmaBuf(const NetComm<Kind>& comm, void* data, size_t bytes, int ptrType,
                           uint64_t offset, int fd, NetMemoryRegistration* out) {
    return registerOn(comm.get(), data, bytes, ptrType, fd, offset, out);
  }

  // A null *out after success: the plugin cannot take it now; try again later.
  ncclResult_t isend(NetSendComm& comm, void* data, size_t bytes, int tag,
                     const NetMemoryRegistration& registration, NetRequest* out);
  ncclResult_t irecv(NetRecvComm& comm, std::span<const NetBuffer> buffers, NetRequest* out);
  // After a receive into GPU memory. Completes at once (nothing pending) when the plugin
  // has nothing to flush.
  ncclResult_t iflush(NetRecvComm& comm, std::span<const NetBuffer> buffers, NetRequest* out);
  // *done set: the request is finished and `sizes` (one per buffer; may be empty) holds the
  // bytes moved.
  ncclResult_t test(NetRequest& request, bool* done, std::span<int> sizes);

  bool supportsVirtualDevices() const;
  // NIC fusion (v9+): a new device made of `devices`; ncclInvalidUsage before v9. Call it
  // before any comm is made: the device list is not guarded against concurrent readers.
  ncclResult_t makeVirtualDevice(std::span<const int> devices, int* dev);

  // Closing, for the RAII handles.
  ncclResult_t close(NetCommKind kind, void* comm);
  ncclResult_t deregister(void* comm, void* mhandle);

 private:
  ncclResult_t registerOn(void* comm, void* data, size_t bytes, int ptrType, int fd,
                          uint64_t offset, NetMemoryRegistration* out);
  ncclResult_t checkBuffers(std::span<const NetBuffer> buffers, void** data, size_t* sizes,
                            int* tags, void** mhandles) const;

  std::shared_ptr<void> library_;
  std::string libraryPath_;
  std::unique_ptr<NetOps> ops_;
  std::string name_;
  std::vector<NetDeviceProperties> devices_;
};

template <NetCommKind Kind>
void NetComm<Kind>::reset() {
  if (comm_) net_->close(Kind, comm_);
  comm_ = nullptr;
  net_.reset();
}

}  // namespace tccl
