#include "base/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/env.h"
#include "base/error.h"

namespace tccl {

namespace {
thread_local const std::atomic<bool>* tCancel = nullptr;
bool cancelled() {
  return tCancel && tCancel->load(std::memory_order_relaxed);
}
}  // namespace

bool socketWaitCancelled() {
  return cancelled();
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) close(fd_);
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string SocketAddress::toString() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (storage.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return '[' + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "<no address>";
}

int SocketAddress::port() const {
  if (storage.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (storage.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return -1;
}

void SocketAddress::setPort(int port) {
  if (storage.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(static_cast<uint16_t>(port));
  else if (storage.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(static_cast<uint16_t>(port));
}

socklen_t SocketAddress::length() const {
  return storage.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

ncclResult_t parseSocketAddress(const std::string& text, SocketAddress* out) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return setError(ncclInvalidArgument, "'%s' is not a valid [ipv6]:port address", text.c_str());
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
      return setError(ncclInvalidArgument, "'%s' is not a valid host:port address", text.c_str());
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  char* end = nullptr;
  long p = strtol(port.c_str(), &end, 10);
  if (*end || p <= 0 || p > 65535)
    return setError(ncclInvalidArgument, "'%s': port '%s' is not in 1..65535", text.c_str(),
                    port.c_str());
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return setError(ncclInvalidArgument, "cannot resolve host '%s' in '%s': %s", host.c_str(),
                    text.c_str(), gai_strerror(rc));
  memcpy(&out->storage, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  out->setPort(static_cast<int>(p));
  return ncclSuccess;
}

namespace {
bool matchesIfname(const std::string& name, const std::string& spec) {
  std::string s = spec;
  bool exclude = !s.empty() && s[0] == '^';
  if (exclude) s.erase(0, 1);
  bool exact = !s.empty() && s[0] == '=';
  if (exact) s.erase(0, 1);
  bool hit = false;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string tok = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!tok.empty() && (exact ? name == tok : name.rfind(tok, 0) == 0)) hit = true;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return exclude ? !hit : hit;
}
}  // namespace

std::vector<Interface> findInterfaces() {
  std::vector<Interface> found, loopback;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return found;
  std::string spec = envString("NCCL_SOCKET_IFNAME");
  for (ifaddrs* ifa = list; ifa; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr || !(ifa->ifa_flags & IFF_UP)) continue;
    int family = ifa->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    if (family == AF_INET6) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(ifa->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) continue;
    }
    std::string name = ifa->ifa_name;
    Interface itf{name, {}};
    memcpy(&itf.address.storage, ifa->ifa_addr,
           family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    if (!spec.empty()) {
      if (matchesIfname(name, spec)) found.push_back(itf);
    } else if (ifa->ifa_flags & IFF_LOOPBACK) {
      loopback.push_back(itf);
    } else if (name.rfind("docker", 0) != 0) {
      found.push_back(itf);
    }
  }
  freeifaddrs(list);
  // IPv4 first: it is what people type into NCCL_COMM_ID.
  auto v4first = [](const Interface& a, const Interface& b) {
    return a.address.storage.ss_family == AF_INET && b.address.storage.ss_family != AF_INET;
  };
  std::stable_sort(found.begin(), found.end(), v4first);
  std::stable_sort(loopback.begin(), loopback.end(), v4first);
  found.insert(found.end(), loopback.begin(), loopback.end());
  return found;
}

SocketCancelScope::SocketCancelScope(const std::atomic<bool>* flag) : previous_(tCancel) {
  tCancel = flag;
}
SocketCancelScope::~SocketCancelScope() {
  tCancel = previous_;
}

Deadline deadlineAfter(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

int pollSliceMs(Deadline deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<long long>(left + 1, 200));
}

bool isLocalAddress(const SocketAddress& addr) {
  Fd fd(socket(addr.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  SocketAddress probe = addr;
  probe.setPort(0);
  return bind(fd.get(), reinterpret_cast<const sockaddr*>(&probe.storage), probe.length()) == 0;
}

ncclResult_t listenOn(SocketAddress* addr, Fd* out) {
  Fd fd(socket(addr->storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return setError(ncclSystemError, "socket(): %s", strerror(errno));
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr->storage), addr->length()) != 0)
    return setError(ncclSystemError, "cannot bind %s: %s", addr->toString().c_str(),
                    strerror(errno));
  if (listen(fd.get(), 1024) != 0)
    return setError(ncclSystemError, "listen on %s: %s", addr->toString().c_str(), strerror(errno));
  socklen_t len = sizeof(addr->storage);
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr->storage), &len);
  *out = std::move(fd);
  return ncclSuccess;
}

ncclResult_t setNonBlocking(const Fd& fd, bool on) {
  int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) != 0)
    return setError(ncclSystemError, "fcntl(O_NONBLOCK): %s", strerror(errno));
  return ncclSuccess;
}

ncclResult_t startConnect(const SocketAddress& addr, Fd* out) {
  Fd fd(socket(addr.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return setError(ncclSystemError, "socket(): %s", strerror(errno));
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr.storage), addr.length()) != 0 &&
      errno != EINPROGRESS && errno != EINTR) {
    // Refused at once (loopback): report it through connectError like a late failure.
    if (!connectRetryable(errno))
      return setError(ncclSystemError, "cannot connect to %s: %s", addr.toString().c_str(),
                      strerror(errno));
  }
  *out = std::move(fd);
  return ncclSuccess;
}

int connectError(const Fd& fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  if (err == 0) {
    // Writable without an error can still mean "not connected" after a reset.
    sockaddr_storage peer{};
    socklen_t plen = sizeof(peer);
    if (getpeername(fd.get(), reinterpret_cast<sockaddr*>(&peer), &plen) != 0) return ENOTCONN;
  }
  return err;
}

bool connectRetryable(int err) {
  return err == ECONNREFUSED || err == ETIMEDOUT || err == EAGAIN || err == EINTR ||
         err == ENETUNREACH || err == EHOSTUNREACH || err == ECONNRESET || err == ENOTCONN;
}

std::string peerName(const Fd& fd) {
  SocketAddress a;
  socklen_t len = sizeof(a.storage);
  if (getpeername(fd.get(), reinterpret_cast<sockaddr*>(&a.storage), &len) != 0) return "?";
  return a.toString();
}

ncclResult_t connectTo(const SocketAddress& addr, Deadline deadline, Fd* out) {
  int delayMs = 1;
  while (true) {
    Fd fd;
    TCCL_CHECK(startConnect(addr, &fd));
    int err = ETIMEDOUT;
    while (true) {
      pollfd pfd{fd.get(), POLLOUT, 0};
      int rc = poll(&pfd, 1, pollSliceMs(deadline));
      if (rc < 0 && errno != EINTR) return setError(ncclSystemError, "poll(): %s", strerror(errno));
      if (rc > 0) {
        err = connectError(fd);
        break;
      }
      if (cancelled())
        return setError(ncclRemoteError, "aborted while connecting to %s", addr.toString().c_str());
      if (Clock::now() >= deadline) break;
    }
    if (err == 0) {
      TCCL_CHECK(setNonBlocking(fd, false));
      *out = std::move(fd);
      return ncclSuccess;
    }
    const bool retryable = connectRetryable(err);
    if (!retryable || Clock::now() >= deadline)
      return setError(ncclSystemError, "cannot connect to %s: %s%s", addr.toString().c_str(),
                      strerror(err), retryable ? " (gave up at the timeout)" : "");
    if (cancelled())
      return setError(ncclRemoteError, "aborted while connecting to %s", addr.toString().c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
    delayMs = std::min(delayMs * 2, 100);
  }
}

ncclResult_t acceptUntil(const Fd& listener, Deadline deadline, Fd* out) {
  while (true) {
    pollfd pfd{listener.get(), POLLIN, 0};
    int rc = poll(&pfd, 1, pollSliceMs(deadline));
    if (rc > 0) {
      int fd = accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        *out = Fd(fd);
        return ncclSuccess;
      }
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        return setError(ncclSystemError, "accept(): %s", strerror(errno));
    } else if (rc < 0 && errno != EINTR) {
      return setError(ncclSystemError, "poll(): %s", strerror(errno));
    }
    if (cancelled()) return setError(ncclRemoteError, "aborted while waiting for a connection");
    if (Clock::now() >= deadline) return ncclInProgress;
  }
}

static ncclResult_t transfer(const Fd& fd, void* data, size_t bytes, Deadline deadline, bool send) {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    pollfd pfd{fd.get(), static_cast<short>(send ? POLLOUT : POLLIN), 0};
    int rc = poll(&pfd, 1, pollSliceMs(deadline));
    if (rc < 0 && errno != EINTR) return setError(ncclSystemError, "poll(): %s", strerror(errno));
    if (rc <= 0) {
      if (cancelled())
        return setError(ncclRemoteError, "aborted with %zu bytes left to %s", bytes,
                        send ? "send" : "receive");
      if (Clock::now() >= deadline)
        return setError(ncclRemoteError, "socket %s timed out with %zu bytes left",
                        send ? "send" : "receive", bytes);
      continue;
    }
    ssize_t n = send ? ::send(fd.get(), p, bytes, MSG_NOSIGNAL) : ::recv(fd.get(), p, bytes, 0);
    if (n == 0)
      return setError(ncclRemoteError, "connection closed by peer with %zu bytes left", bytes);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return setError(ncclRemoteError, "socket %s: %s", send ? "send" : "receive", strerror(errno));
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return ncclSuccess;
}

ncclResult_t sendAll(const Fd& fd, const void* data, size_t bytes, Deadline deadline) {
  return transfer(fd, const_cast<void*>(data), bytes, deadline, true);
}

ncclResult_t recvAll(const Fd& fd, void* data, size_t bytes, Deadline deadline) {
  return transfer(fd, data, bytes, deadline, false);
}

}  // namespace tccl
