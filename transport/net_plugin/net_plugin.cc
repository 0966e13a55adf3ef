#include "transport/net_plugin/net_plugin.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "base/log.h"
#include "transport/net_plugin/net_plugin_ops.h"

namespace tccl {
namespace {

// The plugin's log lines join ours: NCCL_DEBUG and NCCL_DEBUG_SUBSYS filter them alike.
uint32_t subsysOf(unsigned long flags) {
  if (flags == ~0ul || flags == 0xffffffffu) return kLogAll;
  uint32_t out = 0;
  if (flags & netabi::kPluginFlagInit) out |= kLogInit;
  if (flags & netabi::kPluginFlagColl) out |= kLogColl;
  if (flags & netabi::kPluginFlagP2p) out |= kLogP2p;
  if (flags & netabi::kPluginFlagShm) out |= kLogShm;
  if (flags & netabi::kPluginFlagGraph) out |= kLogGraph;
  if (flags & netabi::kPluginFlagEnv) out |= kLogEnv;
  if (flags & netabi::kPluginFlagAlloc) out |= kLogAlloc;
  if (flags & netabi::kPluginFlagBootstrap) out |= kLogBootstrap;
  // NET, and what has no subsystem of ours (tuning, proxy, registration, ...).
  if (out == 0 || (flags & netabi::kPluginFlagNet)) out |= kLogNet;
  return out;
}

LogLevel levelOf(netabi::PluginLogLevel level) {
  switch (level) {
    case netabi::kPluginLogWarn:
    case netabi::kPluginLogAbort:
      return LogLevel::kWarn;
    case netabi::kPluginLogTrace:
      return LogLevel::kTrace;
    case netabi::kPluginLogNone:
      return LogLevel::kNone;
    default:
      return LogLevel::kInfo;
  }
}

void pluginLogger(netabi::PluginLogLevel level, unsigned long flags, const char* file, int line,
                  const char* fmt, ...) {
  const LogLevel ours = levelOf(level);
  const uint32_t subsys = subsysOf(flags);
  if (ours == LogLevel::kNone || !fmt || !logEnabled(ours, subsys)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  // Plugins written for NCCL often end their messages with a newline; our lines have one.
  for (size_t len = std::min(sizeof(msg) - 1, static_cast<size_t>(std::max(n, 0)));
       len > 0 && msg[len - 1] == '\n'; --len)
    msg[len - 1] = '\0';
  logMessage(ours, subsys, file ? file : "plugin", line, "%s", msg);
}

// TCCL has no profiler plugin: events the network plugin starts are dropped.
ncclResult_t noProfiler(void** eHandle, int, void*, int64_t, void*) {
  if (eHandle) *eHandle = nullptr;
  return ncclSuccess;
}

std::string ptrSupportText(int bits) {
  std::string s;
  for (auto [bit, name] : {std::pair{netabi::kPtrHost, "HOST"}, std::pair{netabi::kPtrCuda, "CUDA"},
                           std::pair{netabi::kPtrDmaBuf, "DMABUF"}})
    if (bits & bit) {
      if (!s.empty()) s += '|';
      s += name;
    }
  return s.empty() ? "none" : s;
}

}  // namespace

std::string describeNetDevice(int dev, const NetDeviceProperties& p) {
  char line[512];
  snprintf(line, sizeof(line),
           "dev %d %s: speed %d Mbps, port %d, latency %.1f us, guid %#" PRIx64
           ", ptrSupport %s%s%s, maxRecvs %d, maxComms %d, pciPath %s",
           dev, p.name.empty() ? "(unnamed)" : p.name.c_str(), p.speedMbps, p.port, p.latencyUs,
           p.guid, ptrSupportText(p.ptrSupport).c_str(), p.regIsGlobal ? ", regIsGlobal" : "",
           p.forceFlush ? ", forceFlush" : "", p.maxRecvs, p.maxComms,
           p.pciPath.empty() ? "(virtual)" : p.pciPath.c_str());
  return line;
}

// ---- RAII handles

NetMemoryRegistration::NetMemoryRegistration(NetMemoryRegistration&& o) noexcept
    : net_(std::move(o.net_)), comm_(o.comm_), mhandle_(o.mhandle_), active_(o.active_) {
  o.comm_ = o.mhandle_ = nullptr;
  o.active_ = false;
}

NetMemoryRegistration& NetMemoryRegistration::operator=(NetMemoryRegistration&& o) noexcept {
  if (this != &o) {
    reset();
    net_ = std::move(o.net_);
    comm_ = o.comm_;
    mhandle_ = o.mhandle_;
    active_ = o.active_;
    o.comm_ = o.mhandle_ = nullptr;
    o.active_ = false;
  }
  return *this;
}

void NetMemoryRegistration::reset() {
  if (active_) net_->deregister(comm_, mhandle_);
  comm_ = mhandle_ = nullptr;
  active_ = false;
  net_.reset();
}

// ---- NetPlugin

NetPlugin::NetPlugin(std::shared_ptr<void> library, std::string libraryPath,
                     std::unique_ptr<NetOps> ops)
    : library_(std::move(library)),
      libraryPath_(std::move(libraryPath)),
      ops_(std::move(ops)),
      name_(ops_->name() ? ops_->name() : "") {}

NetPlugin::~NetPlugin() = default;

int NetPlugin::abiVersion() const {
  return ops_->version();
}

int NetPlugin::maxRequestsPerComm() const {
  return ops_->maxRequests();
}

size_t NetPlugin::maxMessageBytes(int dev) const {
  return std::min(device(dev).maxP2pBytes, ops_->maxMessageBytes());
}

size_t NetPlugin::maxRegistrationBytes() const {
  return ops_->maxRegistrationBytes();
}

bool NetPlugin::supportsDmaBuf(int dev) const {
  return (device(dev).ptrSupport & netabi::kPtrDmaBuf) && ops_->hasRegMrDmaBuf();
}

bool NetPlugin::supportsVirtualDevices() const {
  return ops_->hasMakeVDevice();
}

ncclResult_t NetPlugin::initialize(std::string* why) {
  ncclResult_t res = ops_->init(pluginLogger, noProfiler);
  if (res != ncclSuccess) {
    *why = std::string("init returned ") + resultName(res);
    return res;
  }
  int n = 0;
  res = ops_->devices(&n);
  if (res != ncclSuccess) {
    *why = std::string("devices() returned ") + resultName(res);
    return res;
  }
  if (n <= 0) {
    *why = "it found no network device";
    return ncclSystemError;
  }
  devices_.resize(static_cast<size_t>(n));
  for (int d = 0; d < n; ++d) {
    res = ops_->getProperties(d, &devices_[static_cast<size_t>(d)]);
    if (res != ncclSuccess) {
      *why = "getProperties(" + std::to_string(d) + ") returned " + resultName(res);
      devices_.clear();
      return res;
    }
  }
  return ncclSuccess;
}

ncclResult_t NetPlugin::listen(int dev, NetHandle* handle, NetListenComm* out) {
  if (dev < 0 || dev >= deviceCount()) return ncclInvalidArgument;
  void* comm = nullptr;
  ncclResult_t res = ops_->listen(dev, handle->bytes, &comm);
  if (res != ncclSuccess) return res;
  if (!comm) return ncclInternalError;  // listen must give a comm when it succeeds
  *out = NetListenComm(shared_from_this(), comm);
  return ncclSuccess;
}

ncclResult_t NetPlugin::connect(int dev, NetHandle* handle, NetSendComm* out) {
  if (dev < 0 || dev >= deviceCount()) return ncclInvalidArgument;
  void* comm = nullptr;
  ncclResult_t res = ops_->connect(dev, handle->bytes, &comm);
  if (res != ncclSuccess) return res;
  if (comm) *out = NetSendComm(shared_from_this(), comm);
  return ncclSuccess;
}

ncclResult_t NetPlugin::accept(NetListenComm& listener, NetRecvComm* out) {
  void* comm = nullptr;
  ncclResult_t res = ops_->accept(listener.get(), &comm);
  if (res != ncclSuccess) return res;
  if (comm) *out = NetRecvComm(shared_from_this(), comm);
  return ncclSuccess;
}

ncclResult_t NetPlugin::registerOn(void* comm, void* data, size_t bytes, int ptrType, int fd,
                                   uint64_t offset, NetMemoryRegistration* out) {
  if (!comm || !data || bytes == 0 || bytes > ops_->maxRegistrationBytes())
    return ncclInvalidArgument;
  void* mhandle = nullptr;
  ncclResult_t res = fd >= 0 ? ops_->regMrDmaBuf(comm, data, bytes, ptrType, offset, fd, &mhandle)
                             : ops_->regMr(comm, data, bytes, ptrType, &mhandle);
  if (res != ncclSuccess) return res;
  NetMemoryRegistration mr;
  mr.net_ = shared_from_this();
  mr.comm_ = comm;
  mr.mhandle_ = mhandle;  // may be null: some plugins keep nothing, yet expect the deregMr
  mr.active_ = true;
  *out = std::move(mr);
  return ncclSuccess;
}

ncclResult_t NetPlugin::deregister(void* comm, void* mhandle) {
  ncclResult_t res = ops_->deregMr(comm, mhandle);
  if (res != ncclSuccess)
    INFO(kLogNet, "NET/%s: deregMr failed: %s", name_.c_str(), resultName(res));
  return res;
}

ncclResult_t NetPlugin::close(NetCommKind kind, void* comm) {
  ncclResult_t res = kind == NetCommKind::kSend   ? ops_->closeSend(comm)
                     : kind == NetCommKind::kRecv ? ops_->closeRecv(comm)
                                                  : ops_->closeListen(comm);
  if (res != ncclSuccess)
    INFO(kLogNet, "NET/%s: closing a %s comm failed: %s", name_.c_str(),
         kind == NetCommKind::kSend   ? "send"
         : kind == NetCommKind::kRecv ? "receive"
                                      : "listen",
         resultName(res));
  return res;
}

ncclResult_t NetPlugin::isend(NetSendComm& comm, void* data, size_t bytes, int tag,
                              const NetMemoryRegistration& registration, NetRequest* out) {
  if (!comm || !registration || out->pending()) return ncclInternalError;
  return ops_->isend(comm.get(), data, bytes, tag, registration.mhandle(), &out->req_);
}

ncclResult_t NetPlugin::checkBuffers(std::span<const NetBuffer> buffers, void** data, size_t* sizes,
                                     int* tags, void** mhandles) const {
  if (buffers.empty() || buffers.size() > static_cast<size_t>(kMaxGroupedRecvs))
    return ncclInternalError;
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (!buffers[i].registration || !*buffers[i].registration) return ncclInternalError;
    data[i] = buffers[i].data;
    sizes[i] = buffers[i].bytes;
    tags[i] = buffers[i].tag;
    mhandles[i] = buffers[i].registration->mhandle();
  }
  return ncclSuccess;
}

ncclResult_t NetPlugin::irecv(NetRecvComm& comm, std::span<const NetBuffer> buffers,
                              NetRequest* out) {
  void* data[kMaxGroupedRecvs];
  size_t sizes[kMaxGroupedRecvs];
  int tags[kMaxGroupedRecvs];
  void* mhandles[kMaxGroupedRecvs];
  if (!comm || out->pending()) return ncclInternalError;
  if (ncclResult_t res = checkBuffers(buffers, data, sizes, tags, mhandles); res != ncclSuccess)
    return res;
  return ops_->irecv(comm.get(), static_cast<int>(buffers.size()), data, sizes, tags, mhandles,
                     &out->req_);
}

ncclResult_t NetPlugin::iflush(NetRecvComm& comm, std::span<const NetBuffer> buffers,
                               NetRequest* out) {
  void* data[kMaxGroupedRecvs];
  size_t sizes[kMaxGroupedRecvs];
  int intSizes[kMaxGroupedRecvs];
  int tags[kMaxGroupedRecvs];
  void* mhandles[kMaxGroupedRecvs];
  if (!comm || out->pending()) return ncclInternalError;
  if (ncclResult_t res = checkBuffers(buffers, data, sizes, tags, mhandles); res != ncclSuccess)
    return res;
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (sizes[i] > static_cast<size_t>(INT32_MAX)) return ncclInternalError;
    intSizes[i] = static_cast<int>(sizes[i]);
  }
  return ops_->iflush(comm.get(), static_cast<int>(buffers.size()), data, intSizes, mhandles,
                      &out->req_);
}

ncclResult_t NetPlugin::test(NetRequest& request, bool* done, std::span<int> sizes) {
  if (!request.pending()) return ncclInternalError;
  int finished = 0;
  int scratch[kMaxGroupedRecvs] = {};
  int* out = sizes.empty() ? scratch : sizes.data();
  ncclResult_t res = ops_->test(request.req_, &finished, out);
  if (res != ncclSuccess) return res;
  *done = finished != 0;
  if (*done) request.req_ = nullptr;  // the plugin frees it: never test it again
  return ncclSuccess;
}

ncclResult_t NetPlugin::makeVirtualDevice(std::span<const int> devices, int* dev) {
  if (!ops_->hasMakeVDevice()) return ncclInvalidUsage;
  if (devices.empty() || devices.size() > static_cast<size_t>(netabi::kMaxDevsPerVirtualNic))
    return ncclInvalidArgument;
  netabi::VirtualDeviceProps props{};
  props.ndevs = static_cast<int>(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i] < 0 || devices[i] >= deviceCount()) return ncclInvalidArgument;
    props.devs[i] = devices[i];
  }
  ncclResult_t res = ops_->makeVDevice(dev, props);
  if (res != ncclSuccess) return res;
  // The new device joins the list: its properties come from the plugin like the others'.
  NetDeviceProperties p;
  res = ops_->getProperties(*dev, &p);
  if (res != ncclSuccess) return res;
  if (*dev != deviceCount()) return ncclInternalError;
  devices_.push_back(std::move(p));
  return ncclSuccess;
}

}  // namespace tccl
