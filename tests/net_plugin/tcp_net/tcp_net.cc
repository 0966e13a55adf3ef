// A plain TCP network for TCCL's tests, with the semantics the NCCL net plugin documentation
// asks of a plugin and strict checks of its caller: every isend/irecv must use a live
// registration of that comm covering the buffer, a receive buffer must be large enough, tags
// must match, and at most TCCL_TESTNET_MAX_REQUESTS requests (default 2, deliberately small)
// are taken per comm; beyond that isend/irecv answer "later" with a null request. Progress
// happens only inside test(), as in many real plugins.
//
// Environment, read at init: NCCL_SOCKET_IFNAME (comma-separated interface name prefixes,
// "^" excludes, "=" exact; default: every non-loopback IPv4 interface, else lo),
// TCCL_TESTNET_MAX_REQUESTS, TCCL_TESTNET_PTR_SUPPORT=cuda (also accept NCCL_PTR_CUDA
// registrations; the memory is still touched by the CPU, for host tests of the GPU-direct
// protocol), TCCL_TESTNET_MAX_P2P_BYTES; TCCL_TESTNET_NAMES and TCCL_TESTNET_PCI_PATHS
// (comma-separated, entry i for device i) make device i report that name and pciPath instead
// of its interface's, so that tests can place devices on a topology's NICs: an empty name
// entry keeps the interface name, an empty pciPath entry reports none (a virtual NIC), and
// devices beyond the list keep their own. TCCL_TESTNET_DEVICES=N (more than the interfaces)
// adds copies of the first interface's device until there are N.
#include "tcp_net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "test_net_stats.h"

namespace tcpnet {
namespace {

using tccl::netabi::kPluginFlagNet;
using tccl::netabi::kPluginLogInfo;
using tccl::netabi::kPluginLogWarn;
using tccl::netabi::kPtrCuda;
using tccl::netabi::kPtrHost;

constexpr uint32_t kHandleMagic = 0x7E57AB1E;
constexpr uint32_t kHelloMagic = 0x7E57BEEF;
constexpr uint32_t kDataMagic = 0x7E57DA7A;
constexpr int kPoolSize = tccl::netabi::kMaxRequests;

tccl::netabi::Logger gLog = nullptr;
#define TN_LOG(level, ...) \
  (gLog ? gLog(level, kPluginFlagNet, __FILE__, __LINE__, __VA_ARGS__) : (void)0)

struct Stats {
  std::atomic<int64_t> initCalls{0}, registrations{0}, deregistrations{0}, cudaRegistrations{0},
      liveComms{0}, isends{0}, irecvs{0}, refused{0}, flushes{0}, maxInflight{0};
} gStats;

struct Device {
  std::string name;
  std::string pciPath;
  sockaddr_in address{};
  int speedMbps = 10000;
  std::vector<int> fused;
};
std::vector<Device> gDevices;
int gMaxRequests = 2;
int gPtrSupport = kPtrHost;
size_t gMaxP2pBytes = size_t{1} << 30;

// Sent to the connecting side through the caller; `fd` and `stage` are the sender's own
// progress between connect() calls.
struct Handle {
  uint32_t magic;
  uint32_t stage;
  uint64_t nonce;
  sockaddr_in address;
  int fd;
};
static_assert(sizeof(Handle) <= tccl::netabi::kHandleMaxBytes);

struct Hello {
  uint32_t magic;
  uint32_t reserved;
  uint64_t nonce;
};

struct Header {
  uint32_t magic;
  int32_t tag;
  uint64_t size;
};

struct Comm;

struct Registration {
  Comm* comm;
  char* base;
  size_t size;
  int type;
};

enum class Kind { kSend, kRecv, kFlush };

struct Request {
  Comm* comm = nullptr;
  bool used = false;    // handed out, not yet reported done by test()
  bool queued = false;  // still in its comm's stream
  bool done = false;
  Kind kind = Kind::kSend;
  char* data = nullptr;
  size_t size = 0;  // send: length; receive: capacity; then what arrived
  int tag = 0;
  Header header{};
  size_t headerDone = 0;
  size_t payloadDone = 0;
};

struct Comm {
  int fd = -1;
  bool sender = false;
  Request pool[kPoolSize];
  std::deque<Request*> stream;  // data requests in posting order
  int inflight = 0;
  ncclResult_t error = ncclSuccess;
};

struct ListenComm {
  int fd = -1;
  uint64_t nonce = 0;
  int pending = -1;  // accepted, hello not complete
  Hello hello{};
  size_t helloDone = 0;
};

// The objects handed to the caller as opaque pointers, owned here: every pointer that comes
// back is checked against them.
template <class T>
class Pool {
 public:
  T* add(std::unique_ptr<T> item) {
    std::lock_guard<std::mutex> lock(mutex_);
    T* raw = item.get();
    items_[raw] = std::move(item);
    return raw;
  }
  std::unique_ptr<T> take(void* raw) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = items_.find(static_cast<T*>(raw));
    if (it == items_.end()) return nullptr;
    std::unique_ptr<T> item = std::move(it->second);
    items_.erase(it);
    return item;
  }
  T* find(void* raw) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = items_.find(static_cast<T*>(raw));
    return it == items_.end() ? nullptr : it->second.get();
  }

 private:
  std::mutex mutex_;
  std::map<T*, std::unique_ptr<T>> items_;
};
Pool<Comm> gComms;
Pool<ListenComm> gListeners;
Pool<Registration> gRegistrations;

int envInt(const char* name, int fallback) {
  const char* v = getenv(name);
  return v && *v ? atoi(v) : fallback;
}

bool matches(const std::string& name, const char* spec) {
  if (!spec || !*spec) return name != "lo";
  std::string list(spec);
  bool exclude = false, exact = false;
  if (!list.empty() && list[0] == '^') exclude = true, list.erase(0, 1);
  if (!list.empty() && list[0] == '=') exact = true, list.erase(0, 1);
  bool hit = false;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = list.substr(pos, comma - pos);
    if (!item.empty() && (exact ? name == item : name.rfind(item, 0) == 0)) hit = true;
    pos = comma + 1;
  }
  return exclude ? !hit : hit;
}

void findDevices() {
  gDevices.clear();
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return;
  const char* spec = getenv("NCCL_SOCKET_IFNAME");
  for (int pass = 0; pass < 2 && gDevices.empty(); ++pass) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
      const std::string name = i->ifa_name;
      // Second pass, nothing selected without NCCL_SOCKET_IFNAME: loopback.
      if (pass == 0 ? !matches(name, spec) : (spec && *spec) || name != "lo") continue;
      bool seen = false;
      for (const Device& d : gDevices) seen = seen || d.name == name;
      if (seen) continue;
      Device d;
      d.name = name;
      memcpy(&d.address, i->ifa_addr, sizeof(sockaddr_in));
      d.address.sin_port = 0;
      d.fused = {static_cast<int>(gDevices.size())};
      char path[PATH_MAX];
      const std::string sys = "/sys/class/net/" + name + "/device";
      if (realpath(sys.c_str(), path)) d.pciPath = path;
      gDevices.push_back(d);
    }
  }
  freeifaddrs(list);
}

// Entry i of a comma-separated list (nullopt past its end or without the variable).
std::optional<std::string> listEntry(const char* var, size_t i) {
  const char* v = getenv(var);
  if (!v) return std::nullopt;
  const std::string list(v);
  size_t start = 0;
  for (size_t n = 0; n < i; ++n) {
    start = list.find(',', start);
    if (start == std::string::npos) return std::nullopt;
    ++start;
  }
  const size_t end = list.find(',', start);
  return list.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

void applyReportedIdentities() {
  // More devices than interfaces: copies of the first one ("lo", "lo.1", ...).
  const size_t wanted = static_cast<size_t>(std::max(0, envInt("TCCL_TESTNET_DEVICES", 0)));
  for (size_t i = gDevices.size(); !gDevices.empty() && i < wanted; ++i) {
    Device copy = gDevices.front();
    copy.name += "." + std::to_string(i);
    copy.fused = {static_cast<int>(i)};
    gDevices.push_back(copy);
  }
  for (size_t i = 0; i < gDevices.size(); ++i) {
    if (std::optional<std::string> name = listEntry("TCCL_TESTNET_NAMES", i);
        name && !name->empty())
      gDevices[i].name = *name;
    if (std::optional<std::string> path = listEntry("TCCL_TESTNET_PCI_PATHS", i))
      gDevices[i].pciPath = *path;
  }
}

ncclResult_t setNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? ncclSuccess : ncclSystemError;
}

uint64_t makeNonce() {
  static std::atomic<uint64_t> counter{0};
  uint64_t n = static_cast<uint64_t>(getpid()) << 32;
  n ^= static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&counter));
  return n ^ (++counter * 0x9E3779B97F4A7C15ull);
}

enum class Side { kSend, kRecv };

Comm* newComm(int fd, Side side) {
  auto c = std::make_unique<Comm>();
  c->fd = fd;
  c->sender = side == Side::kSend;
  ++gStats.liveComms;
  return gComms.add(std::move(c));
}

ncclResult_t lost(Comm* c, int err) {
  c->error = (err == 0 || err == EPIPE || err == ECONNRESET) ? ncclRemoteError : ncclSystemError;
  if (err == 0)
    TN_LOG(kPluginLogWarn, "NET/TestTCP: the peer closed the connection");
  else
    TN_LOG(kPluginLogWarn, "NET/TestTCP: socket error: %s", strerror(err));
  return c->error;
}

bool wouldBlock() {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// Moves the request at the head of the stream as far as the socket allows; true when done.
ncclResult_t progressOne(Comm* c, Request* r, bool* finished) {
  *finished = false;
  if (r->kind == Kind::kSend) {
    while (r->headerDone < sizeof(Header) || r->payloadDone < r->size) {
      iovec iov[2];
      int n = 0;
      if (r->headerDone < sizeof(Header))
        iov[n++] = {reinterpret_cast<char*>(&r->header) + r->headerDone,
                    sizeof(Header) - r->headerDone};
      if (r->payloadDone < r->size) iov[n++] = {r->data + r->payloadDone, r->size - r->payloadDone};
      msghdr mh{};
      mh.msg_iov = iov;
      mh.msg_iovlen = static_cast<size_t>(n);
      ssize_t sent = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) {
        if (wouldBlock()) return ncclSuccess;
        return lost(c, errno);
      }
      size_t left = static_cast<size_t>(sent);
      const size_t h = std::min(left, sizeof(Header) - r->headerDone);
      r->headerDone += h;
      r->payloadDone += left - h;
    }
    *finished = true;
    return ncclSuccess;
  }
  while (r->headerDone < sizeof(Header)) {
    ssize_t got = recv(c->fd, reinterpret_cast<char*>(&r->header) + r->headerDone,
                       sizeof(Header) - r->headerDone, MSG_DONTWAIT);
    if (got == 0) return lost(c, 0);
    if (got < 0) return wouldBlock() ? ncclSuccess : lost(c, errno);
    r->headerDone += static_cast<size_t>(got);
    if (r->headerDone < sizeof(Header)) continue;
    if (r->header.magic != kDataMagic) {
      TN_LOG(kPluginLogWarn, "NET/TestTCP: bad message magic %#x", r->header.magic);
      return c->error = ncclSystemError;
    }
    if (r->header.tag != r->tag) {
      TN_LOG(kPluginLogWarn, "NET/TestTCP: message tag %d where the receive expects %d",
             r->header.tag, r->tag);
      return c->error = ncclInternalError;
    }
    if (r->header.size > r->size) {
      TN_LOG(kPluginLogWarn, "NET/TestTCP: %llu-byte message for a %zu-byte receive",
             static_cast<unsigned long long>(r->header.size), r->size);
      return c->error = ncclInvalidUsage;
    }
  }
  while (r->payloadDone < r->header.size) {
    ssize_t got =
        recv(c->fd, r->data + r->payloadDone, r->header.size - r->payloadDone, MSG_DONTWAIT);
    if (got == 0) return lost(c, 0);
    if (got < 0) return wouldBlock() ? ncclSuccess : lost(c, errno);
    r->payloadDone += static_cast<size_t>(got);
  }
  r->size = r->header.size;
  *finished = true;
  return ncclSuccess;
}

ncclResult_t progress(Comm* c) {
  if (c->error != ncclSuccess) return c->error;
  for (Request* r : c->stream) {
    if (r->done) continue;
    bool finished = false;
    ncclResult_t res = progressOne(c, r, &finished);
    if (res != ncclSuccess) return res;
    if (!finished) break;
    r->done = true;
  }
  return ncclSuccess;
}

// Requests leave the stream, in order, once test() has reported them.
void retire(Comm* c) {
  while (!c->stream.empty() && !c->stream.front()->used) {
    c->stream.front()->queued = false;
    c->stream.pop_front();
  }
}

Request* takeRequest(Comm* c, Kind kind) {
  for (Request& r : c->pool)
    if (!r.used && !r.queued) {
      r = Request{};
      r.comm = c;
      r.used = true;
      r.kind = kind;
      ++c->inflight;
      int64_t seen = gStats.maxInflight.load();
      while (c->inflight > seen && !gStats.maxInflight.compare_exchange_weak(seen, c->inflight)) {
      }
      return &r;
    }
  return nullptr;
}

// The registration must be live, made on this comm, and cover [data, data + size).
bool covered(Comm* c, void* mhandle, const void* data, size_t size) {
  const Registration* reg = gRegistrations.find(mhandle);
  if (!reg || reg->comm != c) return false;
  const char* p = static_cast<const char*>(data);
  return p >= reg->base && size <= reg->size &&
         p - reg->base <= static_cast<ptrdiff_t>(reg->size - size);
}

ncclResult_t post(void* comm, Kind kind, void* data, size_t size, int tag, void* mhandle,
                  void** request) {
  *request = nullptr;
  Comm* c = gComms.find(comm);
  if (!c || c->sender != (kind == Kind::kSend)) return ncclInternalError;
  if (c->error != ncclSuccess) return c->error;
  if (!covered(c, mhandle, data, size)) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: %s of %zu bytes at %p outside its registration",
           kind == Kind::kSend ? "isend" : "irecv", size, data);
    return ncclInternalError;
  }
  if (size > gMaxP2pBytes) return ncclInternalError;
  if (c->inflight >= gMaxRequests) {
    ++gStats.refused;
    return ncclSuccess;  // "later"
  }
  Request* r = takeRequest(c, kind);
  if (!r) return ncclInternalError;
  r->data = static_cast<char*>(data);
  r->size = size;
  r->tag = tag;
  if (kind == Kind::kSend) r->header = Header{kDataMagic, tag, size};
  r->queued = true;
  c->stream.push_back(r);
  ++(kind == Kind::kSend ? gStats.isends : gStats.irecvs);
  *request = r;
  progress(c);  // a failure stays in c->error: test() reports it for unfinished requests
  return ncclSuccess;
}

}  // namespace

ncclResult_t init(tccl::netabi::Logger logger) {
  gLog = logger;
  ++gStats.initCalls;
  gMaxRequests = envInt("TCCL_TESTNET_MAX_REQUESTS", 2);
  if (gMaxRequests < 1 || gMaxRequests > kPoolSize) gMaxRequests = 2;
  const char* ptr = getenv("TCCL_TESTNET_PTR_SUPPORT");
  gPtrSupport = kPtrHost | (ptr && strcmp(ptr, "cuda") == 0 ? kPtrCuda : 0);
  if (const char* m = getenv("TCCL_TESTNET_MAX_P2P_BYTES"))
    gMaxP2pBytes = static_cast<size_t>(strtoull(m, nullptr, 10));
  findDevices();
  applyReportedIdentities();
  if (gDevices.empty()) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: no usable IPv4 interface");
    return ncclSystemError;
  }
  // Ends in a newline, as many plugins written for NCCL do.
  TN_LOG(kPluginLogInfo, "NET/TestTCP: %zu device(s), at most %d requests per comm\n",
         gDevices.size(), gMaxRequests);
  return ncclSuccess;
}

ncclResult_t devices(int* ndev) {
  *ndev = static_cast<int>(gDevices.size());
  return ncclSuccess;
}

ncclResult_t deviceInfo(int dev, DeviceInfo* out) {
  if (dev < 0 || dev >= static_cast<int>(gDevices.size())) return ncclInvalidArgument;
  const Device& d = gDevices[static_cast<size_t>(dev)];
  *out = DeviceInfo{d.name.c_str(),
                    d.pciPath.empty() ? nullptr : d.pciPath.c_str(),
                    gPtrSupport,
                    d.speedMbps * static_cast<int>(d.fused.size()),
                    1,
                    gMaxP2pBytes,
                    &d.fused};
  return ncclSuccess;
}

ncclResult_t makeVDevice(int* dev, tccl::netabi::VirtualDeviceProps* props) {
  if (!props || props->ndevs < 1 || props->ndevs > tccl::netabi::kMaxDevsPerVirtualNic)
    return ncclInvalidArgument;
  Device v;
  for (int i = 0; i < props->ndevs; ++i) {
    const int p = props->devs[i];
    if (p < 0 || p >= static_cast<int>(gDevices.size()) ||
        gDevices[static_cast<size_t>(p)].fused.size() != 1)
      return ncclInvalidArgument;  // only physical devices fuse
    const Device& phys = gDevices[static_cast<size_t>(p)];
    v.name += (v.name.empty() ? "" : "+") + phys.name;
    v.fused.push_back(p);
  }
  v.address = gDevices[static_cast<size_t>(props->devs[0])].address;
  *dev = static_cast<int>(gDevices.size());
  gDevices.push_back(std::move(v));
  return ncclSuccess;
}

ncclResult_t listen(int dev, void* handle, void** listenComm) {
  if (dev < 0 || dev >= static_cast<int>(gDevices.size())) return ncclInvalidArgument;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ncclSystemError;
  sockaddr_in addr = gDevices[static_cast<size_t>(dev)].address;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      setNonBlocking(fd) != ncclSuccess) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: cannot listen: %s", strerror(errno));
    close(fd);
    return ncclSystemError;
  }
  auto l = std::make_unique<ListenComm>();
  l->fd = fd;
  l->nonce = makeNonce();
  auto* h = static_cast<Handle*>(handle);
  memset(h, 0, sizeof(Handle));
  *h = Handle{kHandleMagic, 0, l->nonce, addr, -1};
  ++gStats.liveComms;
  *listenComm = gListeners.add(std::move(l));
  return ncclSuccess;
}

ncclResult_t connect(int /*dev*/, void* handle, void** sendComm) {
  *sendComm = nullptr;
  auto* h = static_cast<Handle*>(handle);
  if (h->magic != kHandleMagic) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: connect with an invalid handle");
    return ncclInvalidArgument;
  }
  if (h->stage == 0) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return ncclSystemError;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&h->address), sizeof(h->address)) != 0 &&
        errno != EINPROGRESS) {
      TN_LOG(kPluginLogWarn, "NET/TestTCP: connect: %s", strerror(errno));
      close(fd);
      return errno == ECONNREFUSED ? ncclRemoteError : ncclSystemError;
    }
    h->fd = fd;
    h->stage = 1;
    return ncclSuccess;  // come back later, as the ABI asks
  }
  if (h->stage != 1) return ncclInternalError;
  pollfd p{h->fd, POLLOUT, 0};
  if (poll(&p, 1, 0) == 0) return ncclSuccess;
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  Hello hello{kHelloMagic, 0, h->nonce};
  if (err != 0 || send(h->fd, &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello)) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: connect: %s", strerror(err ? err : errno));
    close(h->fd);
    h->stage = 2;
    return ncclRemoteError;
  }
  int one = 1;
  setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  *sendComm = newComm(h->fd, Side::kSend);
  h->stage = 2;
  return ncclSuccess;
}

ncclResult_t accept(void* listenComm, void** recvComm) {
  *recvComm = nullptr;
  ListenComm* l = gListeners.find(listenComm);
  if (!l) return ncclInternalError;
  if (l->pending < 0) {
    l->pending = accept4(l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (l->pending < 0) return wouldBlock() ? ncclSuccess : ncclSystemError;
    l->helloDone = 0;
  }
  ssize_t got = recv(l->pending, reinterpret_cast<char*>(&l->hello) + l->helloDone,
                     sizeof(Hello) - l->helloDone, MSG_DONTWAIT);
  if (got < 0 && wouldBlock()) return ncclSuccess;
  if (got > 0) l->helloDone += static_cast<size_t>(got);
  const bool complete = l->helloDone == sizeof(Hello);
  if (got <= 0 || (complete && (l->hello.magic != kHelloMagic || l->hello.nonce != l->nonce))) {
    close(l->pending);  // a stranger or a broken greeting: drop it
    l->pending = -1;
    return ncclSuccess;
  }
  if (!complete) return ncclSuccess;
  *recvComm = newComm(l->pending, Side::kRecv);
  l->pending = -1;
  return ncclSuccess;
}

ncclResult_t regMr(void* comm, void* data, size_t size, int type, void** mhandle) {
  if (!comm || !data || size == 0 || !(type & gPtrSupport) ||
      (type != kPtrHost && type != kPtrCuda)) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: refused regMr(%p, %zu bytes, type %d)", data, size, type);
    return ncclInternalError;
  }
  Comm* c = gComms.find(comm);
  if (!c) return ncclInternalError;
  *mhandle = gRegistrations.add(
      std::make_unique<Registration>(Registration{c, static_cast<char*>(data), size, type}));
  ++gStats.registrations;
  if (type == kPtrCuda) ++gStats.cudaRegistrations;
  return ncclSuccess;
}

ncclResult_t deregMr(void* comm, void* mhandle) {
  const Registration* reg = gRegistrations.find(mhandle);
  if (!reg || reg->comm != comm) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: deregMr of an unknown registration");
    return ncclInternalError;
  }
  gRegistrations.take(mhandle);
  ++gStats.deregistrations;
  return ncclSuccess;
}

ncclResult_t isend(void* sendComm, void* data, size_t size, int tag, void* mhandle,
                   void** request) {
  return post(sendComm, Kind::kSend, data, size, tag, mhandle, request);
}

ncclResult_t irecv(void* recvComm, int n, void** data, const size_t* sizes, int* tags,
                   void** mhandles, void** request) {
  *request = nullptr;
  if (n != 1) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: irecv of %d buffers, maxRecvs is 1", n);
    return ncclInternalError;
  }
  return post(recvComm, Kind::kRecv, data[0], sizes[0], tags[0], mhandles[0], request);
}

ncclResult_t iflush(void* recvComm, int n, void** data, int* sizes, void** mhandles,
                    void** request) {
  *request = nullptr;
  Comm* c = gComms.find(recvComm);
  if (!c || c->sender || n != 1) return ncclInternalError;
  if (!covered(c, mhandles[0], data[0], static_cast<size_t>(sizes[0])) ||
      gRegistrations.find(mhandles[0])->type != kPtrCuda) {
    TN_LOG(kPluginLogWarn, "NET/TestTCP: iflush of memory not registered as NCCL_PTR_CUDA");
    return ncclInternalError;
  }
  ++gStats.flushes;
  Request* r = takeRequest(c, Kind::kFlush);
  if (!r) return ncclInternalError;
  r->done = true;  // the CPU wrote the data: nothing to flush
  *request = r;
  return ncclSuccess;
}

ncclResult_t test(void* request, int* done, int* sizes) {
  auto* r = static_cast<Request*>(request);
  if (!r || !r->used) return ncclInternalError;
  *done = 0;
  Comm* c = r->comm;
  // What finished before the connection failed is still reported as finished.
  const ncclResult_t res = r->kind == Kind::kFlush ? ncclSuccess : progress(c);
  if (!r->done) return res;
  *done = 1;
  if (sizes) sizes[0] = static_cast<int>(r->kind == Kind::kFlush ? 0 : r->size);
  r->used = false;
  --c->inflight;
  retire(c);
  return ncclSuccess;
}

ncclResult_t closeComm(void* comm) {
  std::unique_ptr<Comm> c = gComms.take(comm);
  if (!c) return ncclInternalError;
  close(c->fd);
  --gStats.liveComms;
  return ncclSuccess;
}

ncclResult_t closeSend(void* sendComm) {
  return closeComm(sendComm);
}

ncclResult_t closeRecv(void* recvComm) {
  return closeComm(recvComm);
}

ncclResult_t closeListen(void* listenComm) {
  std::unique_ptr<ListenComm> l = gListeners.take(listenComm);
  if (!l) return ncclInternalError;
  if (l->pending >= 0) close(l->pending);
  close(l->fd);
  --gStats.liveComms;
  return ncclSuccess;
}

}  // namespace tcpnet

extern "C" __attribute__((visibility("default"))) void tcclTestNetStats(TestNetStats* out) {
  using tcpnet::gStats;
  const int64_t regs = gStats.registrations.load(), deregs = gStats.deregistrations.load();
  *out = TestNetStats{gStats.initCalls.load(),
                      regs,
                      deregs,
                      regs - deregs,
                      gStats.cudaRegistrations.load(),
                      gStats.liveComms.load(),
                      gStats.isends.load(),
                      gStats.irecvs.load(),
                      gStats.refused.load(),
                      gStats.flushes.load(),
                      gStats.maxInflight.load()};
}
