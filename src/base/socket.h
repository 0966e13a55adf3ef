// TCP helpers for the bootstrap (and the net transport): RAII descriptors, addresses,
// interface selection (NCCL_SOCKET_IFNAME) and deadline-bounded I/O.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <nccl.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace tccl {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release();
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A plain-old-data socket address that travels inside unique ids and bootstrap messages.
struct SocketAddress {
  sockaddr_storage storage{};
  std::string toString() const;
  int port() const;
  void setPort(int port);
  socklen_t length() const;
};

// "host:port" (IPv4, IPv6 in brackets, or a resolvable name).
ncclResult_t parseSocketAddress(const std::string& text, SocketAddress* out);

struct Interface {
  std::string name;
  SocketAddress address;
};
// Interfaces allowed by NCCL_SOCKET_IFNAME ("eth" prefix, "^docker,lo" excluded, "=eth0" exact);
// without it, non-loopback interfaces first and loopback last.
std::vector<Interface> findInterfaces();

// True when `addr` (its port ignored) belongs to this machine, so that it can be bound.
bool isLocalAddress(const SocketAddress& addr);
// Listens on `addr` (port 0: any free port); the bound address is written back.
ncclResult_t listenOn(SocketAddress* addr, Fd* out);
// Connects, retrying refused connections until the deadline, which bounds every attempt too
// (a full listen backlog drops SYNs: a blocking connect would wait minutes).
ncclResult_t connectTo(const SocketAddress& addr, Deadline deadline, Fd* out);

// The non-blocking steps of connectTo, for callers that wait on other sockets meanwhile:
// startConnect makes a non-blocking socket and starts connecting; once it polls writable,
// connectError tells the outcome (0: connected, else an errno).
ncclResult_t startConnect(const SocketAddress& addr, Fd* out);
int connectError(const Fd& fd);
// errno values after which connecting again may succeed (the listener is not up yet).
bool connectRetryable(int err);
ncclResult_t setNonBlocking(const Fd& fd, bool on);
// The peer's address of a connected socket, for messages.
std::string peerName(const Fd& fd);
// Waits for a connection; ncclInProgress on timeout (not an error by itself).
ncclResult_t acceptUntil(const Fd& listener, Deadline deadline, Fd* out);
ncclResult_t sendAll(const Fd& fd, const void* data, size_t bytes, Deadline deadline);
ncclResult_t recvAll(const Fd& fd, void* data, size_t bytes, Deadline deadline);

Deadline deadlineAfter(double seconds);

// Milliseconds to wait in one poll() before the deadline: at most 200, so that waits notice
// cancellation.
int pollSliceMs(Deadline deadline);

// While set on this thread, socket waits give up (ncclRemoteError) soon after *flag turns
// true: lets ncclCommAbort interrupt a communicator's init that waits for its peers.
class SocketCancelScope {
 public:
  explicit SocketCancelScope(const std::atomic<bool>* flag);
  ~SocketCancelScope();
  SocketCancelScope(const SocketCancelScope&) = delete;
  SocketCancelScope& operator=(const SocketCancelScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};
// True when the SocketCancelScope of this thread was triggered.
bool socketWaitCancelled();

}  // namespace tccl
