#include "transport/net/net_connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/log.h"
#include "base/socket.h"
#include "transport/numa_binding.h"

#if defined(__SANITIZE_THREAD__)
#define TCCL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TCCL_TSAN 1
#endif
#endif
#ifdef TCCL_TSAN
extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}
#endif

namespace tccl {
namespace {

// What orders a helper's socket I/O on caller memory against the rank's other accesses to
// it is the collective's own data flow through the peers: a byte sent from a buffer is read
// before the data that lets anyone overwrite it can come back over the network. ThreadSanitizer
// cannot see ordering through sockets, so those system calls (and only those) are hidden from
// it; every other access, staging slots and the connection's own state included, stays checked.
void hideCallerIoFromTsan(bool begin) {
#ifdef TCCL_TSAN
  if (begin) {
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
  } else {
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  }
#else
  (void)begin;
#endif
}

constexpr uint32_t kHelloMagic = 0x7CC1AE70;
constexpr uint32_t kDataMagic = 0x7CC1DA7A;
constexpr uint32_t kCreditMagic = 0x7CC1C4ED;
constexpr uint32_t kProtocolVersion = 1;
constexpr int kMaxSlots = 64;
constexpr int kMaxSockets = 64;
constexpr int kPollMs = 100;  // helpers look at the stop flag at least this often
constexpr double kHelloTimeoutSec = 5;
constexpr uint64_t kLowWaterBytes = 256 << 10;  // see setLowWater

// Bootstrap message, sender -> receiver: where to connect.
struct AddressMessage {
  SocketAddress address;
  uint64_t slotBytes;
  uint32_t nSlots;
  uint32_t nSocks;
};

// First bytes on every socket, receiver -> sender.
struct Hello {
  uint32_t magic;
  uint32_t version;
  uint64_t jobHash;
  int32_t sender;
  int32_t receiver;
  uint32_t tag;
  uint32_t index;
  uint32_t nSocks;
  uint32_t nSlots;
  uint64_t slotBytes;
};

// Before every stripe, sender -> receiver. Every slot is striped over all sockets (a stripe
// may be empty), so every socket carries every sequence number in order.
struct DataHeader {
  uint32_t magic;
  uint32_t stripe;
  uint64_t seq;
  uint64_t slotBytes;
  uint64_t offset;
  uint64_t length;
};

// Receiver -> sender on socket 0: slots released so far.
struct Credit {
  uint32_t magic;
  uint32_t reserved;
  uint64_t released;
};

size_t stripeBegin(size_t bytes, int i, int n) {
  return bytes * static_cast<size_t>(i) / static_cast<size_t>(n);
}

struct Unmap {
  size_t bytes = 0;
  void operator()(char* p) const { munmap(p, bytes); }
};
using Mapping = std::unique_ptr<char, Unmap>;

ncclResult_t allocateStaging(size_t bytes, int numaNode, Mapping* out) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return setError(ncclSystemError, "cannot map a %zu-byte network staging buffer: %s", bytes,
                    strerror(errno));
  *out = Mapping(static_cast<char*>(p), Unmap{bytes});
  if (numaNode < 0) return ncclSuccess;
  switch (bindToNumaNode(p, bytes, numaNode)) {
    case NumaBinding::kBound:
      INFO(kLogNet, "net staging buffer of %zu bytes bound to NUMA node %d", bytes, numaNode);
      break;
    case NumaBinding::kNoSuchNode:
      INFO(kLogNet, "this machine has no NUMA node %d: the net staging buffer is not bound",
           numaNode);
      break;
    case NumaBinding::kFailed:
      INFO(kLogNet, "could not bind the net staging buffer to NUMA node %d: %s", numaNode,
           strerror(errno));
      break;
  }
  return ncclSuccess;
}

// The connection keeps its AsyncSteps apart, where member order releases it before the staging.
NetConnectionSpec withoutSteps(NetConnectionSpec spec) {
  spec.asyncSteps.reset();
  return spec;
}

struct Sock {
  Fd fd;
  int index = 0;
  uint64_t seq = 0;  // next slot this socket sends or receives
  size_t done = 0;   // bytes of the current header + stripe already moved
  DataHeader hdr{};
  bool haveHeader = false;  // receiver: hdr is complete and checked
  char* landing = nullptr;  // receiver: where the current slot lands (staging or caller memory)
  bool intoCaller = false;
  int lowWater = 1;  // receiver: SO_RCVLOWAT as last set
  Credit credit{};   // socket 0: credit being written (receiver) or read (sender)
  size_t creditDone = 0;
  uint64_t creditSent = 0;
  bool closed = false;  // the peer closed it cleanly: no longer polled
};

class NetConnection final : public Connection {
 public:
  NetConnection(bool isSender, int self, int peer, uint64_t jobHash, const NetConnectionSpec& spec,
                Mapping staging)
      : isSender_(isSender),
        self_(self),
        peer_(peer),
        jobHash_(jobHash),
        spec_(withoutSteps(spec)),
        nSlots_(static_cast<uint64_t>(spec.nSlots)),
        nSocks_(spec.nThreads * spec.nSocksPerThread),
        staging_(std::move(staging)),
        steps_(spec.asyncSteps),
        stepBase_(staging_.get()),
        arrivals_(std::make_unique<std::atomic<uint64_t>[]>(nSlots_)),
        landing_(std::make_unique<std::atomic<int>[]>(nSlots_)),
        posted_(nSlots_),
        sources_(nSlots_, nullptr),
        stripesSent_(std::make_unique<std::atomic<uint64_t>[]>(static_cast<size_t>(nSocks_))),
        closedAt_(std::make_unique<std::atomic<uint64_t>[]>(static_cast<size_t>(nSocks_))),
        sizes_(nSlots_ * static_cast<size_t>(nSocks_), 0) {
    for (uint64_t i = 0; i < nSlots_; ++i) {
      arrivals_[i].store(0);
      landing_[i].store(kOpen);
    }
    for (int i = 0; i < nSocks_; ++i) {
      stripesSent_[i].store(0);
      closedAt_[i].store(kOpenSocket);
    }
  }

  ~NetConnection() override {
    // Publications still queued behind device steps refer to this object.
    if (steps_) steps_->drain();
    const uint64_t slots = isSender_ ? sent_ : received_;
    if (slots > 0)
      INFO(kLogNet, "rank %d: %s: %" PRIu64 " slots, %" PRIu64 " %s", self_, describe().c_str(),
           slots, zeroCopySlots_, isSender_ ? "sent from caller memory" : "landed in place");
    if (!workers_.empty() && !(spec_.abortFlag && spec_.abortFlag->load())) flush();
    stop_.store(true);
    for (auto& w : workers_) wake(*w);
    for (auto& w : workers_)
      if (w->thread.joinable()) w->thread.join();
  }

  size_t slotBytes() const override { return spec_.slotBytes; }

  void* trySendSlot() override {
    if (peerClosed_.load(std::memory_order_acquire)) {
      fail(-1, "closed the connection (it exited or finished) before this rank's next send");
      return nullptr;
    }
    if (sent_ - credit_.load(std::memory_order_acquire) >= nSlots_) return nullptr;
    // The credit means every socket has sent its stripe of the slot we are about to reuse (the
    // receiver releases a slot only once all stripes landed), but that order runs through the
    // network, where the memory model (and ThreadSanitizer) cannot see it. The helpers publish
    // what they sent, so that their reads of the slot happen before our writes.
    if (sent_ >= nSlots_ && allSent_ <= sent_ - nSlots_) {
      allSent_ = UINT64_MAX;
      for (int i = 0; i < nSocks_; ++i)
        allSent_ = std::min(allSent_, stripesSent_[i].load(std::memory_order_acquire));
      if (allSent_ <= sent_ - nSlots_) return nullptr;
    }
    return stepBase_ + (sent_ % nSlots_) * spec_.slotBytes;
  }

  void commitSend(size_t bytes) override {
    sources_[sent_ % nSlots_] = nullptr;
    sizes_[sent_ % nSlots_] = bytes;
    const uint64_t committed = ++sent_;
    publish([this, committed] {
      head_.store(committed, std::memory_order_release);
      for (auto& w : workers_) wake(*w);
    });
  }

  const void* tryRecvSlot(size_t* bytes) override {
    const uint64_t slot = received_ % nSlots_;
    const uint64_t expected = (received_ / nSlots_ + 1) * static_cast<uint64_t>(nSocks_);
    if (arrivals_[slot].load(std::memory_order_acquire) < expected) {
      if (peerClosed_.load(std::memory_order_acquire)) failIfNeverComes();
      return nullptr;
    }
    const uint64_t* sizes = &sizes_[slot * static_cast<size_t>(nSocks_)];
    for (int i = 1; i < nSocks_; ++i)
      if (sizes[i] != sizes[0]) {
        fail(-1, "its sockets disagree on the size of slot %" PRIu64, received_);
        return nullptr;
      }
    *bytes = sizes[0];
    if (landing_[slot].load(std::memory_order_acquire) == kDirect) return posted_[slot].dest;
    return stepBase_ + slot * spec_.slotBytes;
  }

  void releaseRecv() override {
    // Before the credit can bring the slot's next use.
    if (landing_[received_ % nSlots_].exchange(kOpen, std::memory_order_relaxed) == kDirect)
      ++zeroCopySlots_;
    const uint64_t released = ++received_;
    publish([this, released] {
      released_.store(released, std::memory_order_release);
      if (!workers_.empty()) wake(*workers_.front());  // socket 0 carries the credits
    });
  }

  // Zero-copy needs host memory on both ends: not with device-staged slots.
  bool sendsFromCaller() const override {
    return isSender_ && !steps_ && !abandoned_.load(std::memory_order_relaxed);
  }

  void commitSendFrom(const void* src, size_t bytes) override {
    sources_[sent_ % nSlots_] = static_cast<const char*>(src);
    sizes_[sent_ % nSlots_] = bytes;
    const uint64_t committed = ++sent_;
    lastFromCaller_ = committed;
    ++zeroCopySlots_;
    head_.store(committed, std::memory_order_release);
    for (auto& w : workers_) wake(*w);
  }

  bool sendsInFlight() const override {
    for (int i = 0; i < nSocks_ && lastFromCaller_ > 0; ++i)
      if (stripesSent_[i].load(std::memory_order_acquire) < lastFromCaller_) return true;
    return false;
  }

  bool postRecv(size_t ahead, void* dest, size_t bytes) override {
    if (isSender_ || steps_ || ahead >= nSlots_ || abandoned_.load(std::memory_order_relaxed))
      return false;
    const uint64_t slot = (received_ + ahead) % nSlots_;
    // Open: no stripe of that slot has arrived yet; the helpers see the destination only
    // through the exchange, so a post that loses the race leaves the slot in staging.
    if (landing_[slot].load(std::memory_order_acquire) != kOpen) return true;
    posted_[slot] = Posted{static_cast<char*>(dest), bytes};
    int open = kOpen;
    landing_[slot].compare_exchange_strong(open, kDirect, std::memory_order_acq_rel);
    return true;
  }

  void abandon() override {
    abandoned_.store(true);
    while (inCallerMemory_.load() > 0) std::this_thread::yield();
    bool pending = sendsInFlight();
    for (uint64_t i = 0; i < nSlots_ && !isSender_; ++i)
      pending = pending || landing_[i].load() == kDirect;
    if (pending) fail(-1, "(the operation was abandoned while this hop held its buffers)");
  }

  ncclResult_t checkPeer() override {
    if (steps_) TCCL_CHECK(steps_->check());
    if (!failed_.load(std::memory_order_acquire)) return ncclSuccess;
    std::lock_guard<std::mutex> lock(errorMutex_);
    return setError(ncclRemoteError, "%s", error_.c_str());
  }

  int peer() const override { return peer_; }

  std::string describe() const override {
    return std::string(isSender_ ? "send to rank " : "recv from rank ") + std::to_string(peer_) +
           " via net " + address_ + " (" + std::to_string(nSocks_) + " sockets" +
           (steps_ ? ", device-staged)" : ")");
  }

  // Device data moves between its buffers and the staging slots by DMA.
  bool copyEngine() const override { return steps_ != nullptr; }

  // Setup.
  ncclResult_t adoptStaging() {
    if (!steps_) return ncclSuccess;
    void* base = nullptr;
    TCCL_CHECK(
        steps_->adopt(staging_.get(), spec_.slotBytes * static_cast<size_t>(nSlots_), &base));
    stepBase_ = static_cast<char*>(base);
    return ncclSuccess;
  }

  ncclResult_t listen(const SocketAddress& local, AddressMessage* msg) {
    SocketAddress addr = local;
    addr.setPort(0);
    TCCL_CHECK(listenOn(&addr, &listener_));
    address_ = addr.toString();
    msg->address = addr;
    msg->slotBytes = spec_.slotBytes;
    msg->nSlots = static_cast<uint32_t>(spec_.nSlots);
    msg->nSocks = static_cast<uint32_t>(nSocks_);
    return ncclSuccess;
  }

  ncclResult_t connectAll(const SocketAddress& remote, uint32_t tag) {
    address_ = remote.toString();
    Deadline deadline = deadlineAfter(spec_.setupTimeoutSec);
    socks_.resize(static_cast<size_t>(nSocks_));
    for (int i = 0; i < nSocks_; ++i) {
      Sock& s = socks_[static_cast<size_t>(i)];
      s.index = i;
      TCCL_CHECK(connectTo(remote, deadline, &s.fd));
      Hello hello{kHelloMagic,
                  kProtocolVersion,
                  jobHash_,
                  peer_,
                  self_,
                  tag,
                  static_cast<uint32_t>(i),
                  static_cast<uint32_t>(nSocks_),
                  static_cast<uint32_t>(spec_.nSlots),
                  spec_.slotBytes};
      TCCL_CHECK(sendAll(s.fd, &hello, sizeof(hello), deadline));
    }
    return start();
  }

  // Strangers and malformed greetings are dropped; only the peer's sockets are kept.
  ncclResult_t acceptAll() {
    Deadline deadline = deadlineAfter(spec_.setupTimeoutSec);
    socks_.resize(static_cast<size_t>(nSocks_));
    int accepted = 0;
    while (accepted < nSocks_) {
      Fd fd;
      ncclResult_t res = acceptUntil(listener_, deadline, &fd);
      if (res == ncclInProgress)
        return setError(ncclRemoteError,
                        "rank %d: rank %d did not connect to %s within %.0f s (%d of %d sockets)",
                        self_, peer_, address_.c_str(), spec_.setupTimeoutSec, accepted, nSocks_);
      TCCL_CHECK(res);
      Hello hello{};
      Deadline helloDeadline = std::min(deadline, deadlineAfter(kHelloTimeoutSec));
      if (recvAll(fd, &hello, sizeof(hello), helloDeadline) != ncclSuccess) continue;
      const char* why = nullptr;
      if (hello.magic != kHelloMagic || hello.version != kProtocolVersion)
        why = "bad magic or version";
      else if (hello.jobHash != jobHash_ || hello.sender != self_ || hello.receiver != peer_ ||
               hello.tag != tag_)
        why = "it belongs to another job or connection";
      else if (hello.nSocks != static_cast<uint32_t>(nSocks_) ||
               hello.index >= static_cast<uint32_t>(nSocks_))
        why = "socket count or index out of range";
      else if (socks_[hello.index].fd)
        why = "duplicate socket index";
      else if (hello.slotBytes != spec_.slotBytes ||
               hello.nSlots != static_cast<uint32_t>(spec_.nSlots))
        why = "slot geometry differs";
      if (why) {
        INFO(kLogNet, "rank %d: dropped a connection on %s: %s", self_, address_.c_str(), why);
        continue;
      }
      socks_[hello.index].fd = std::move(fd);
      socks_[hello.index].index = static_cast<int>(hello.index);
      ++accepted;
    }
    listener_ = Fd();
    return start();
  }

  void setTag(uint32_t tag) { tag_ = tag; }

 private:
  struct Worker {
    Fd wake;
    std::vector<int> socks;
    std::thread thread;
  };

  ncclResult_t start() {
    for (Sock& s : socks_) {
      int flags = fcntl(s.fd.get(), F_GETFL);
      if (flags < 0 || fcntl(s.fd.get(), F_SETFL, flags | O_NONBLOCK) != 0)
        return setError(ncclSystemError, "fcntl(O_NONBLOCK) on a net socket: %s", strerror(errno));
    }
    for (int t = 0; t < spec_.nThreads; ++t) {
      auto w = std::make_unique<Worker>();
      w->wake = Fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
      if (!w->wake) return setError(ncclSystemError, "eventfd(): %s", strerror(errno));
      for (int k = 0; k < spec_.nSocksPerThread; ++k)
        w->socks.push_back(t * spec_.nSocksPerThread + k);
      workers_.push_back(std::move(w));
    }
    for (auto& w : workers_) w->thread = std::thread([this, wp = w.get()] { run(*wp); });
    return ncclSuccess;
  }

  // Immediately for host steps; behind the issued steps when they are asynchronous.
  void publish(std::function<void()> fn) {
    if (!steps_) return fn();
    ncclResult_t res = steps_->afterIssuedSteps(std::move(fn));
    if (res != ncclSuccess)
      fail(-1, "cannot be ordered after the device steps: %s", lastThreadError().c_str());
  }

  static void wake(Worker& w) {
    uint64_t one = 1;
    ssize_t n = write(w.wake.get(), &one, sizeof(one));
    (void)n;  // EAGAIN: the counter is already non-zero, the worker wakes anyway
  }

  // Waits (bounded by closeTimeoutSec) until the peer has everything: closing earlier could
  // cut off committed slots or credits not yet sent.
  void flush() {
    Deadline deadline = deadlineAfter(spec_.closeTimeoutSec);
    while (!failed_.load() && !peerClosed_.load() && Clock::now() < deadline) {
      if (isSender_ ? credit_.load() >= head_.load() : creditAcked_.load() >= released_.load())
        return;
      if (spec_.abortFlag && spec_.abortFlag->load()) return;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  void fail(int sock, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    std::lock_guard<std::mutex> lock(errorMutex_);
    if (failed_.load()) return;
    std::string where = sock >= 0 ? " (socket " + std::to_string(sock) + ")" : "";
    error_ = "rank " + std::to_string(self_) + ": network hop " + describe() + where +
             " failed: rank " + std::to_string(peer_) + " " + what;
    failed_.store(true, std::memory_order_release);
    INFO(kLogNet, "%s", error_.c_str());
  }

  // Helpers touch caller memory only inside enter/leave, and not at all once abandon() ran.
  bool enterCallerMemory() {
    inCallerMemory_.fetch_add(1);
    if (!abandoned_.load()) {
      hideCallerIoFromTsan(true);
      return true;
    }
    inCallerMemory_.fetch_sub(1);
    fail(-1, "(the operation using this hop was abandoned)");
    return false;
  }
  void leaveCallerMemory() {
    hideCallerIoFromTsan(false);
    inCallerMemory_.fetch_sub(1);
  }

  bool lost(const Sock& s, int err) {
    fail(s.index, "is unreachable: %s", strerror(err));
    return false;
  }

  // End of stream on a socket. A finished peer closes its hops this way once everything it
  // committed was released and every credit returned, so a close with nothing outstanding is
  // not a failure; a later use that needs the peer is (trySendSlot, a commit, a receive that
  // waits). Returns false when the close cut something off.
  bool closedByPeer(Sock& s) {
    if (isSender_) {
      const uint64_t head = head_.load(std::memory_order_acquire);
      if (s.done > 0 || s.seq < head || s.creditDone > 0) {
        fail(s.index,
             "closed the connection before it received slot %" PRIu64 " (exited or aborted)",
             s.seq);
        return false;
      }
      const uint64_t credit = credit_.load(std::memory_order_acquire);
      if (s.index == 0 && credit < head) {
        fail(s.index,
             "closed the connection with %" PRIu64
             " committed slots unreleased (exited or aborted)",
             head - credit);
        return false;
      }
    } else if (s.haveHeader || s.done > 0 || awaitsPosted(s)) {
      fail(s.index,
           "closed the connection before this rank received slot %" PRIu64 " (exited or aborted)",
           s.seq);
      return false;
    }
    s.closed = true;
    closedAt_[s.index].store(s.seq, std::memory_order_release);
    peerClosed_.store(true, std::memory_order_release);
    INFO(kLogNet, "rank %d: %s: rank %d closed socket %d after %" PRIu64 " slots, none outstanding",
         self_, describe().c_str(), peer_, s.index, s.seq);
    return true;
  }

  // Receiver: a slot the executor posted still needs a stripe from this socket. The post is for
  // the first sequence number at or past released_ that falls on its slot (released_ is read
  // first: the release that reopened a slot comes before its store).
  bool awaitsPosted(const Sock& s) {
    const uint64_t released = released_.load(std::memory_order_acquire);
    for (uint64_t j = 0; j < nSlots_; ++j) {
      if (landing_[j].load(std::memory_order_acquire) != kDirect) continue;
      const uint64_t seq = released + (j + nSlots_ - released % nSlots_) % nSlots_;
      if (seq >= s.seq) return true;
    }
    return false;
  }

  // Receiver, executor thread: the slot awaited lacks the stripe of a socket the peer closed.
  void failIfNeverComes() {
    for (int i = 0; i < nSocks_; ++i)
      if (closedAt_[i].load(std::memory_order_acquire) <= received_) {
        fail(
            i,
            "closed the connection (it exited or finished) while this rank waits for slot %" PRIu64,
            received_);
        return;
      }
  }

  void run(Worker& w) {
    std::vector<pollfd> pfds(1 + w.socks.size());
    while (!stop_.load(std::memory_order_acquire) && !failed_.load(std::memory_order_acquire)) {
      const uint64_t head = head_.load(std::memory_order_acquire);
      const uint64_t released = released_.load(std::memory_order_acquire);
      pfds[0] = {w.wake.get(), POLLIN, 0};
      for (size_t i = 0; i < w.socks.size(); ++i) {
        const Sock& s = socks_[static_cast<size_t>(w.socks[i])];
        if (s.closed) {
          pfds[i + 1] = {-1, 0, 0};  // poll skips it
          if (isSender_ && s.seq < head) {
            fail(s.index,
                 "closed the connection (it exited or finished) before this rank's "
                 "slot %" PRIu64 " was sent",
                 s.seq);
            return;
          }
          continue;
        }
        short events = POLLIN;
        if (isSender_ && s.seq < head) events |= POLLOUT;
        if (!isSender_ && s.index == 0 && (s.creditDone > 0 || s.creditSent < released))
          events |= POLLOUT;
        pfds[i + 1] = {s.fd.get(), events, 0};
      }
      int rc = poll(pfds.data(), pfds.size(), kPollMs);
      if (rc < 0) {
        if (errno == EINTR) continue;
        fail(-1, "could not be polled: %s", strerror(errno));
        return;
      }
      if (pfds[0].revents & POLLIN) {
        uint64_t v;
        ssize_t n = read(w.wake.get(), &v, sizeof(v));
        (void)n;
      }
      for (size_t i = 0; i < w.socks.size(); ++i) {
        Sock& s = socks_[static_cast<size_t>(w.socks[i])];
        if (s.closed) continue;
        const short re = pfds[i + 1].revents;
        bool ok = isSender_ ? senderIo(s, re) : receiverIo(s, re);
        if (!ok) return;
      }
    }
  }

  // ---- sender helpers

  bool senderIo(Sock& s, short revents) {
    if (revents & POLLIN) {
      if (s.index != 0) {
        char byte;
        ssize_t n = recv(s.fd.get(), &byte, 1, MSG_DONTWAIT);
        if (n == 0) return closedByPeer(s);
        if (n > 0) {
          fail(s.index, "sent data on a socket that carries none back");
          return false;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return lost(s, errno);
      } else if (!readCredits(s)) {
        return false;
      }
      if (s.closed) return true;
    } else if (revents & (POLLERR | POLLHUP)) {
      return lost(s, ECONNRESET);
    }
    const uint64_t head = head_.load(std::memory_order_acquire);
    while (s.seq < head) {
      if (s.done == 0) {
        const uint64_t bytes = sizes_[s.seq % nSlots_];
        const size_t lo = stripeBegin(bytes, s.index, nSocks_),
                     hi = stripeBegin(bytes, s.index + 1, nSocks_);
        s.hdr = DataHeader{kDataMagic, static_cast<uint32_t>(s.index), s.seq, bytes, lo, hi - lo};
      }
      const char* source = sources_[s.seq % nSlots_];
      const char* payload =
          (source ? source : staging_.get() + (s.seq % nSlots_) * spec_.slotBytes) + s.hdr.offset;
      iovec iov[2];
      int niov = 0;
      if (s.done < sizeof(DataHeader))
        iov[niov++] = {reinterpret_cast<char*>(&s.hdr) + s.done, sizeof(DataHeader) - s.done};
      const size_t payloadDone = s.done > sizeof(DataHeader) ? s.done - sizeof(DataHeader) : 0;
      if (s.hdr.length > payloadDone)
        iov[niov++] = {const_cast<char*>(payload) + payloadDone, s.hdr.length - payloadDone};
      msghdr mh{};
      mh.msg_iov = iov;
      mh.msg_iovlen = static_cast<size_t>(niov);
      if (source && !enterCallerMemory()) return false;
      ssize_t n = sendmsg(s.fd.get(), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (source) leaveCallerMemory();
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
        return lost(s, errno);
      }
      s.done += static_cast<size_t>(n);
      if (s.done < sizeof(DataHeader) + s.hdr.length) return true;  // the socket is full
      s.done = 0;
      ++s.seq;
      stripesSent_[s.index].store(s.seq, std::memory_order_release);
    }
    return true;
  }

  bool readCredits(Sock& s) {
    while (true) {
      ssize_t n = recv(s.fd.get(), reinterpret_cast<char*>(&s.credit) + s.creditDone,
                       sizeof(Credit) - s.creditDone, MSG_DONTWAIT);
      if (n == 0) return closedByPeer(s);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
        return lost(s, errno);
      }
      s.creditDone += static_cast<size_t>(n);
      if (s.creditDone < sizeof(Credit)) continue;
      s.creditDone = 0;
      const uint64_t current = credit_.load(), committed = head_.load(std::memory_order_acquire);
      if (s.credit.magic != kCreditMagic || s.credit.released < current ||
          s.credit.released > committed) {
        fail(s.index,
             "sent an invalid credit (magic %#x, %" PRIu64 " released, %" PRIu64 " committed)",
             s.credit.magic, s.credit.released, committed);
        return false;
      }
      credit_.store(s.credit.released, std::memory_order_release);
    }
  }

  // ---- receiver helpers

  bool checkHeader(const Sock& s) {
    const DataHeader& h = s.hdr;
    const uint64_t released = released_.load(std::memory_order_acquire);
    const char* why = nullptr;
    if (h.magic != kDataMagic)
      why = "bad magic";
    else if (h.stripe != static_cast<uint32_t>(s.index))
      why = "wrong stripe index";
    else if (h.seq != s.seq)
      why = "out-of-order sequence number";
    else if (h.seq >= released + nSlots_)
      why = "more slots than its credit allows";
    else if (h.slotBytes > spec_.slotBytes)
      why = "slot size larger than the slot";
    else if (h.offset != stripeBegin(h.slotBytes, s.index, nSocks_) ||
             h.length != stripeBegin(h.slotBytes, s.index + 1, nSocks_) - h.offset)
      why = "stripe bounds do not match the slot size";
    if (!why) return true;
    fail(s.index, "sent an invalid data header (%s: magic %#x seq %" PRIu64 " size %" PRIu64 ")",
         why, h.magic, h.seq, h.slotBytes);
    return false;
  }

  // The first stripe of a slot to arrive settles where the slot lands: where the executor posted
  // it if it did so in time and for this size, otherwise in staging. A size that differs from
  // the posted one is a mismatch of operations, which the executor reports from staging.
  void chooseLanding(Sock& s) {
    const uint64_t slot = s.seq % nSlots_;
    int state = landing_[slot].load(std::memory_order_acquire);
    if (state == kOpen &&
        landing_[slot].compare_exchange_strong(state, kStaged, std::memory_order_acq_rel))
      state = kStaged;
    if (state == kDirect && posted_[slot].bytes != s.hdr.slotBytes &&
        landing_[slot].compare_exchange_strong(state, kStaged, std::memory_order_acq_rel))
      state = kStaged;
    s.intoCaller = state == kDirect;
    s.landing = s.intoCaller ? posted_[slot].dest : staging_.get() + slot * spec_.slotBytes;
  }

  // Poll reports the socket readable only once the rest of the stripe, up to kLowWaterBytes, is
  // in (any byte while a header is awaited): fewer, larger reads, and fewer wake-ups.
  bool setLowWater(Sock& s) {
    const int want = s.haveHeader && s.hdr.length > s.done
                         ? static_cast<int>(std::min(s.hdr.length - s.done, kLowWaterBytes))
                         : 1;
    if (want == s.lowWater) return true;
    if (setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want)) != 0) {
      fail(s.index, "cannot be tuned: setsockopt(SO_RCVLOWAT): %s", strerror(errno));
      return false;
    }
    s.lowWater = want;
    return true;
  }

  bool receiverIo(Sock& s, short revents) {
    if (revents & POLLIN) {
      // Bounded: the sender cannot run more than nSlots ahead of our credits.
      for (int round = 0; round < 4 * kMaxSlots; ++round) {
        if (!s.haveHeader || s.done < s.hdr.length) {
          char* dest = s.haveHeader ? s.landing + s.hdr.offset + s.done
                                    : reinterpret_cast<char*>(&s.hdr) + s.done;
          const size_t want = s.haveHeader ? s.hdr.length - s.done : sizeof(DataHeader) - s.done;
          const bool caller = s.haveHeader && s.intoCaller;
          if (caller && !enterCallerMemory()) return false;
          ssize_t n = recv(s.fd.get(), dest, want, MSG_DONTWAIT);
          if (caller) leaveCallerMemory();
          if (n == 0) return closedByPeer(s);
          if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            return lost(s, errno);
          }
          s.done += static_cast<size_t>(n);
          if (static_cast<size_t>(n) < want) break;  // drained: poll says when more is in
        }
        if (!s.haveHeader) {
          if (s.done < sizeof(DataHeader)) continue;
          if (!checkHeader(s)) return false;
          chooseLanding(s);
          s.haveHeader = true;
          s.done = 0;
        }
        if (s.haveHeader && s.done == s.hdr.length) {
          const uint64_t slot = s.seq % nSlots_;
          sizes_[slot * static_cast<size_t>(nSocks_) + static_cast<size_t>(s.index)] =
              s.hdr.slotBytes;
          arrivals_[slot].fetch_add(1, std::memory_order_release);
          ++s.seq;
          s.done = 0;
          s.haveHeader = false;
        }
      }
      if (!setLowWater(s)) return false;
    } else if (revents & (POLLERR | POLLHUP)) {
      return lost(s, ECONNRESET);
    }
    return s.index != 0 || sendCredits(s);
  }

  bool sendCredits(Sock& s) {
    while (true) {
      if (s.creditDone == 0) {
        const uint64_t released = released_.load(std::memory_order_acquire);
        if (s.creditSent >= released) return true;
        s.credit = Credit{kCreditMagic, 0, released};
      }
      ssize_t n = send(s.fd.get(), reinterpret_cast<char*>(&s.credit) + s.creditDone,
                       sizeof(Credit) - s.creditDone, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
        return lost(s, errno);
      }
      s.creditDone += static_cast<size_t>(n);
      if (s.creditDone < sizeof(Credit)) return true;
      s.creditDone = 0;
      s.creditSent = s.credit.released;
      creditAcked_.store(s.creditSent, std::memory_order_release);
    }
  }

  const bool isSender_;
  const int self_, peer_;
  const uint64_t jobHash_;
  const NetConnectionSpec spec_;
  const uint64_t nSlots_;
  const int nSocks_;
  uint32_t tag_ = 0;
  std::string address_;
  Mapping staging_;
  std::shared_ptr<AsyncSteps> steps_;  // declared after staging_: released before the unmap
  char* stepBase_;                     // staging_ as the steps address it
  Fd listener_;
  std::vector<Sock> socks_;
  std::vector<std::unique_ptr<Worker>> workers_;

  std::atomic<uint64_t> head_{0};                      // sender: slots committed by the executor
  std::atomic<uint64_t> credit_{0};                    // sender: slots the receiver has released
  std::atomic<uint64_t> released_{0};                  // receiver: slots the executor has released
  std::atomic<uint64_t> creditAcked_{0};               // receiver: credits handed to the socket
  std::unique_ptr<std::atomic<uint64_t>[]> arrivals_;  // receiver: stripes landed per slot
  // Receiver, per slot: where it lands (kOpen until the executor posts it or a stripe arrives).
  enum Landing : int { kOpen, kStaged, kDirect };
  struct Posted {
    char* dest = nullptr;
    size_t bytes = 0;
  };
  std::unique_ptr<std::atomic<int>[]> landing_;
  std::vector<Posted> posted_;        // receiver: valid while landing_ is kDirect
  std::vector<const char*> sources_;  // sender: caller memory of a slot, or nullptr (staging)
  std::unique_ptr<std::atomic<uint64_t>[]> stripesSent_;  // sender: slots each socket sent
  // Per socket: the sequence number at which the peer closed it cleanly (kOpenSocket: open).
  static constexpr uint64_t kOpenSocket = UINT64_MAX;
  std::unique_ptr<std::atomic<uint64_t>[]> closedAt_;
  // Sender: bytes per slot. Receiver: bytes per (slot, stripe) as each header announced.
  std::vector<uint64_t> sizes_;
  uint64_t sent_ = 0, received_ = 0;  // executor thread only
  uint64_t allSent_ = 0;              // executor thread: slots every socket has sent
  uint64_t lastFromCaller_ = 0;       // sender: 1 + the last slot committed from caller memory
  uint64_t zeroCopySlots_ = 0;        // slots that skipped the staging buffer
  std::atomic<bool> abandoned_{false};
  std::atomic<int> inCallerMemory_{0};  // helpers inside a system call on caller memory

  std::atomic<bool> stop_{false}, failed_{false};
  std::atomic<bool> peerClosed_{false};  // some socket was closed cleanly by the peer
  std::mutex errorMutex_;
  std::string error_;
};

ncclResult_t checkSpec(const NetConnectionSpec& spec) {
  if (spec.nSlots < 1 || spec.nSlots > kMaxSlots)
    return setError(ncclInternalError, "net FIFO with %d slots (1..%d)", spec.nSlots, kMaxSlots);
  const int nSocks = spec.nThreads * spec.nSocksPerThread;
  if (spec.nThreads < 1 || spec.nSocksPerThread < 1 || nSocks > kMaxSockets)
    return setError(ncclInvalidArgument,
                    "NCCL_SOCKET_NTHREADS=%d x NCCL_NSOCKS_PERTHREAD=%d must give 1..%d sockets",
                    spec.nThreads, spec.nSocksPerThread, kMaxSockets);
  return ncclSuccess;
}

}  // namespace

ncclResult_t netConnectSend(Bootstrap& bootstrap, int peer, const NetConnectionSpec& spec,
                            std::unique_ptr<Connection>* out) {
  TCCL_CHECK(checkSpec(spec));
  std::vector<Interface> itfs = findInterfaces();
  if (itfs.empty())
    return setError(ncclSystemError,
                    "rank %d: no usable network interface for the net transport to rank %d "
                    "(NCCL_SOCKET_IFNAME='%s')",
                    bootstrap.rank(), peer,
                    getenv("NCCL_SOCKET_IFNAME") ? getenv("NCCL_SOCKET_IFNAME") : "");
  Mapping staging;
  TCCL_CHECK(
      allocateStaging(spec.slotBytes * static_cast<size_t>(spec.nSlots), spec.numaNode, &staging));
  auto conn = std::make_unique<NetConnection>(true, bootstrap.rank(), peer, bootstrap.jobHash(),
                                              spec, std::move(staging));
  TCCL_CHECK(conn->adoptStaging());
  conn->setTag(spec.tag);
  AddressMessage msg{};
  TCCL_CHECK(conn->listen(itfs.front().address, &msg));
  TCCL_CHECK(bootstrap.send(peer, spec.tag, &msg, sizeof(msg)));
  INFO(kLogNet, "rank %d: %s listening on %s", bootstrap.rank(), conn->describe().c_str(),
       itfs.front().name.c_str());
  *out = std::move(conn);
  return ncclSuccess;
}

ncclResult_t netConnectRecv(Bootstrap& bootstrap, int peer, const NetConnectionSpec& spec,
                            std::unique_ptr<Connection>* out) {
  TCCL_CHECK(checkSpec(spec));
  AddressMessage msg{};
  TCCL_CHECK(bootstrap.recv(peer, spec.tag, &msg, sizeof(msg)));
  const int nSocks = spec.nThreads * spec.nSocksPerThread;
  if (msg.slotBytes != spec.slotBytes || msg.nSlots != static_cast<uint32_t>(spec.nSlots) ||
      msg.nSocks != static_cast<uint32_t>(nSocks))
    return setError(
        ncclInvalidUsage,
        "rank %d uses %" PRIu64
        "-byte x %u slots over %u sockets but rank %d %zu x %d over %d: "
        "TCCL_CHUNK_SIZE, TCCL_FIFO_SLOTS, NCCL_SOCKET_NTHREADS and NCCL_NSOCKS_PERTHREAD "
        "must be equal on all ranks",
        peer, msg.slotBytes, msg.nSlots, msg.nSocks, bootstrap.rank(), spec.slotBytes, spec.nSlots,
        nSocks);
  const int family = msg.address.storage.ss_family;
  if ((family != AF_INET && family != AF_INET6) || msg.address.port() <= 0)
    return setError(ncclRemoteError, "rank %d sent an invalid net address", peer);
  Mapping staging;
  TCCL_CHECK(
      allocateStaging(spec.slotBytes * static_cast<size_t>(spec.nSlots), spec.numaNode, &staging));
  auto conn = std::make_unique<NetConnection>(false, bootstrap.rank(), peer, bootstrap.jobHash(),
                                              spec, std::move(staging));
  TCCL_CHECK(conn->adoptStaging());
  TCCL_CHECK(conn->connectAll(msg.address, spec.tag));
  INFO(kLogNet, "rank %d: %s connected", bootstrap.rank(), conn->describe().c_str());
  *out = std::move(conn);
  return ncclSuccess;
}

ncclResult_t netAwaitReceiver(Connection& sendConnection) {
  auto* conn = dynamic_cast<NetConnection*>(&sendConnection);
  if (!conn)
    return setError(ncclInternalError, "netAwaitReceiver on a connection that is not a net hop");
  return conn->acceptAll();
}

}  // namespace tccl
