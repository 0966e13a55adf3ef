#include "transport/net_plugin/plugin_net_connection.h"

#include <sched.h>
#include <sys/prctl.h>

#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/log.h"
#include "transport/host_staging.h"

namespace tccl {
namespace {

using Clock = std::chrono::steady_clock;
using Micros = std::chrono::microseconds;

constexpr int kMaxSlots = 64;
// The helper's pace (see run()).
constexpr Micros kSpinWindow{50};
constexpr Micros kMinNap{20};
constexpr Micros kMaxNap{1000};

ncclResult_t hopError(ncclResult_t pluginResult) {
  return pluginResult == ncclRemoteError ? ncclRemoteError : ncclSystemError;
}

PluginNetConnectionSpec scalarsOf(PluginNetConnectionSpec spec) {
  spec.asyncSteps.reset();
  spec.deviceSlots.reset();
  return spec;
}

class PluginNetConnection final : public Connection {
 public:
  PluginNetConnection(bool isSender, std::shared_ptr<NetPlugin> net, int dev,
                      const PluginNetConnectionSpec& spec)
      : isSender_(isSender),
        net_(std::move(net)),
        dev_(dev),
        spec_(scalarsOf(spec)),
        nSlots_(static_cast<uint64_t>(spec.nSlots)),
        maxInflight_(
            std::min<uint64_t>(nSlots_, static_cast<uint64_t>(net_->maxRequestsPerComm()))),
        device_(spec.deviceSlots),
        steps_(spec.asyncSteps),
        requests_(nSlots_),
        flushes_(nSlots_),
        flushing_(nSlots_, 0),
        sources_(nSlots_),
        sizes_(nSlots_, 0) {}

  ~PluginNetConnection() override {
    // Publications still queued behind device steps refer to this object.
    if (steps_) steps_->drain();
    if (isSender_ && sent_ > 0 && spec_.callerMemory)
      INFO(kLogNet, "rank %d: %s: %" PRIu64 " slots, %" PRIu64 " sent from caller memory",
           spec_.self, describe().c_str(), sent_, zeroCopySlots_);
    if (helper_.joinable() && !aborted()) drainSends();
    stop_.store(true, std::memory_order_seq_cst);
    kick();
    if (helper_.joinable()) helper_.join();
    // Requests still in flight die with their comm: the ABI cannot cancel them. NCCL's order:
    // deregister, then close.
    callerRegistrations_.clear();
    mr_.reset();
    sendComm_.reset();
    recvComm_.reset();
    listen_.reset();
  }

  size_t slotBytes() const override { return spec_.slotBytes; }

  void* trySendSlot() override {
    noteActivity();
    if (sent_ - completed_.load(std::memory_order_acquire) >= nSlots_) return nullptr;
    return stepBase_ + (sent_ % nSlots_) * spec_.slotBytes;
  }

  void commitSend(size_t bytes) override {
    noteActivity();
    sources_[sent_ % nSlots_] = SlotSource{};
    sizes_[sent_ % nSlots_] = bytes;
    const uint64_t committed = ++sent_;
    publish([this, committed] {
      head_.store(committed, std::memory_order_seq_cst);
      kick();
    });
  }

  const void* tryRecvSlot(size_t* bytes) override {
    noteActivity();
    if (arrived_.load(std::memory_order_acquire) <= received_) return nullptr;
    const uint64_t slot = received_ % nSlots_;
    *bytes = sizes_[slot];
    return stepBase_ + slot * spec_.slotBytes;
  }

  void releaseRecv() override {
    noteActivity();
    const uint64_t released = ++received_;
    publish([this, released] {
      released_.store(released, std::memory_order_seq_cst);
      kick();
    });
  }

  // Zero-copy needs host data (no device steps, no GPU-direct slots) and caller memory whose
  // lifetime is known.
  bool sendsFromCaller() const override {
    return isSender_ && !steps_ && !device_ && spec_.callerMemory &&
           !refusedCallerMemory_.load(std::memory_order_relaxed) &&
           !abandoned_.load(std::memory_order_relaxed);
  }

  // The executor calls commitSendFrom right after a yes: the region found is kept for it.
  bool canSendFrom(const void* src, size_t bytes) const override {
    accepted_ = spec_.callerMemory->find(src, bytes);
    if (accepted_ && accepted_->bytes > net_->maxRegistrationBytes()) accepted_.reset();
    return accepted_.has_value();
  }

  void commitSendFrom(const void* src, size_t bytes) override {
    noteActivity();
    const char* data = static_cast<const char*>(src);
    const bool inAccepted = accepted_ && data >= accepted_->base &&
                            static_cast<size_t>(data - accepted_->base) + bytes <= accepted_->bytes;
    // Outside the region canSendFrom accepted, the helper stages the bytes.
    sources_[sent_ % nSlots_] = SlotSource{data, inAccepted ? *accepted_ : CallerRegion{}};
    sizes_[sent_ % nSlots_] = bytes;
    const uint64_t committed = ++sent_;
    lastFromCaller_ = committed;
    ++zeroCopySlots_;
    head_.store(committed, std::memory_order_seq_cst);
    kick();
  }

  bool sendsInFlight() const override {
    return lastFromCaller_ > completed_.load(std::memory_order_acquire);
  }

  // From now on every send is staged. Sends from caller memory still in flight cannot be
  // cancelled (the ABI has no way), so the hop fails: its helper stops driving them, and the
  // hop is out of step with its peer anyway.
  void abandon() override {
    abandoned_.store(true);
    std::lock_guard<std::mutex> lock(callerMutex_);  // the helper is between passes
    if (sendsInFlight())
      fail(ncclSystemError,
           "the operation was abandoned while sends from its buffers were in flight");
  }

  ncclResult_t checkPeer() override {
    if (steps_) TCCL_CHECK(steps_->check());
    if (!failed_.load(std::memory_order_acquire)) return ncclSuccess;
    std::lock_guard<std::mutex> lock(errorMutex_);
    return setError(errorCode_, "%s", error_.c_str());
  }

  bool copyEngine() const override { return steps_ != nullptr; }

  std::string describe() const override {
    const std::string peer = spec_.peer >= 0 ? "rank " + std::to_string(spec_.peer) : "its peer";
    return std::string(isSender_ ? "send to " : "recv from ") + peer + " via NET/" + net_->name() +
           " dev " + std::to_string(dev_) + " (ABI v" + std::to_string(net_->abiVersion()) + ", " +
           (device_              ? "GPU-direct"
            : steps_             ? "device data staged through host memory"
            : spec_.callerMemory ? "host memory, sends from registered buffers"
                                 : "host memory") +
           ")";
  }

  // ---- setup

  ncclResult_t prepareMemory() {
    const size_t bytes = spec_.slotBytes * static_cast<size_t>(nSlots_);
    if (device_) {
      slots_ = stepBase_ = static_cast<char*>(device_->memory.get());
      return ncclSuccess;
    }
    TCCL_CHECK(
        HostStaging::allocate(bytes, spec_.numaNode, "net plugin staging buffer", &staging_));
    slots_ = stepBase_ = staging_.data();
    if (steps_) {
      void* base = nullptr;
      TCCL_CHECK(steps_->adopt(slots_, bytes, &base));
      stepBase_ = static_cast<char*>(base);
    }
    return ncclSuccess;
  }

  ncclResult_t listen(NetHandle* handle) {
    ncclResult_t res = net_->listen(dev_, handle, &listen_);
    if (res != ncclSuccess)
      return setError(hopError(res), "rank %d: NET/%s listen() on dev %d returned %s", spec_.self,
                      net_->name().c_str(), dev_, resultName(res));
    return ncclSuccess;
  }

  ncclResult_t connect(const NetHandle& peerHandle) {
    NetHandle handle = peerHandle;  // the plugin keeps its progress in it between retries
    const auto deadline = Clock::now() + std::chrono::duration<double>(spec_.setupTimeoutSec);
    Micros nap = kMinNap;
    while (!sendComm_) {
      ncclResult_t res = net_->connect(dev_, &handle, &sendComm_);
      if (res != ncclSuccess)
        return setError(hopError(res), "rank %d: NET/%s connect() to rank %d on dev %d returned %s",
                        spec_.self, net_->name().c_str(), spec_.peer, dev_, resultName(res));
      if (sendComm_) break;
      if (aborted())
        return setError(ncclRemoteError, "rank %d: aborted while connecting to rank %d via NET/%s",
                        spec_.self, spec_.peer, net_->name().c_str());
      if (Clock::now() > deadline)
        return setError(ncclRemoteError,
                        "rank %d: could not connect to rank %d via NET/%s within %.0f s",
                        spec_.self, spec_.peer, net_->name().c_str(), spec_.setupTimeoutSec);
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, kMaxNap);
    }
    std::string why;
    if (registerSlots(sendComm_, &why) != ncclSuccess)
      return setError(ncclSystemError, "rank %d: %s", spec_.self, why.c_str());
    return ncclSuccess;
  }

  void start() {
    helper_ = std::thread([this] { run(); });
  }

  bool awaitsConnect() const { return isSender_ && !sendComm_ && !helper_.joinable(); }

 private:
  bool aborted() const { return spec_.abortFlag && spec_.abortFlag->load(); }

  // Executor thread only: a plain counter the helper watches for "someone is waiting here".
  void noteActivity() {
    activity_.store(activity_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  // Immediately for host steps; behind the issued steps when they are asynchronous.
  void publish(std::function<void()> fn) {
    if (!steps_) return fn();
    ncclResult_t res = steps_->afterIssuedSteps(std::move(fn));
    if (res != ncclSuccess)
      fail(ncclSystemError, "cannot be ordered after the device steps: %s",
           lastThreadError().c_str());
  }

  // Wakes the helper from a nap: new work for it.
  void kick() {
    if (!sleeping_.load(std::memory_order_seq_cst)) return;
    {
      std::lock_guard<std::mutex> lock(napMutex_);
      ++kicks_;
    }
    napCv_.notify_one();
  }

  // Helper thread: sleeps for `d` unless kicked, stopped, or handed new work meanwhile.
  void napFor(Micros d) {
    std::unique_lock<std::mutex> lock(napMutex_);
    const uint64_t kicks = kicks_;
    sleeping_.store(true, std::memory_order_seq_cst);
    const uint64_t work =
        (isSender_ ? head_ : released_).load(std::memory_order_seq_cst);  // after announcing
    if (work == seenWork_ && !stop_.load())
      napCv_.wait_for(lock, d, [&] { return kicks_ != kicks || stop_.load(); });
    sleeping_.store(false, std::memory_order_seq_cst);
  }

  template <NetCommKind Kind>
  ncclResult_t registerSlots(const NetComm<Kind>& comm, std::string* why) {
    const size_t bytes = spec_.slotBytes * static_cast<size_t>(nSlots_);
    const int type = device_ ? device_->ptrType : netabi::kPtrHost;
    const bool dmabuf = device_ && device_->dmabufFd >= 0 && net_->supportsDmaBuf(dev_);
    ncclResult_t res = dmabuf ? net_->regMrDmaBuf(comm, slots_, bytes, type, device_->dmabufOffset,
                                                  device_->dmabufFd, &mr_)
                              : net_->regMr(comm, slots_, bytes, type, &mr_);
    if (res == ncclSuccess) return ncclSuccess;
    char text[256];
    snprintf(text, sizeof(text), "NET/%s %s of the %zu-byte slot buffer (%s) returned %s",
             net_->name().c_str(), dmabuf ? "regMrDmaBuf" : "regMr", bytes,
             type == netabi::kPtrHost ? "NCCL_PTR_HOST" : "NCCL_PTR_CUDA", resultName(res));
    *why = text;
    return res;
  }

  bool fail(ncclResult_t code, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    std::lock_guard<std::mutex> lock(errorMutex_);
    if (failed_.load()) return false;
    error_ =
        "rank " + std::to_string(spec_.self) + ": network hop " + describe() + " failed: " + what;
    errorCode_ = code;
    failed_.store(true, std::memory_order_release);
    INFO(kLogNet, "%s", error_.c_str());
    return false;
  }

  bool pluginFailed(const char* call, ncclResult_t res) {
    if (res == ncclRemoteError)
      return fail(ncclRemoteError,
                  "%s returned %s: rank %d closed the connection or is unreachable", call,
                  resultName(res), spec_.peer);
    return fail(ncclSystemError, "%s returned %s", call, resultName(res));
  }

  // ---- helper thread

  // Polls the plugin without pause for a moment after each step forward; otherwise naps,
  // briefly while the executor waits on this hop or sends are in flight (the peer may be
  // waiting for them), longer and longer (up to kMaxNap) when the hop is idle. Spinning
  // helpers would take the cores that the kernel, a TCP-like plugin and the executor need.
  void run() {
    prctl(PR_SET_TIMERSLACK, 1000UL);  // naps of tens of microseconds, not 50 more
    if (!isSender_ && !acceptPeer()) return;
    auto lastProgress = Clock::now();
    uint64_t seenActivity = activity_.load(std::memory_order_relaxed);
    Micros nap = kMinNap;
    while (!stop_.load(std::memory_order_acquire) && !aborted()) {
      bool progressed = false;
      if (!(isSender_ ? progressSends(&progressed) : progressRecvs(&progressed))) return;
      const auto now = Clock::now();
      if (progressed) {
        lastProgress = now;
        nap = kMinNap;
        continue;
      }
      if (now - lastProgress < kSpinWindow) {
        sched_yield();
        continue;
      }
      const uint64_t activity = activity_.load(std::memory_order_relaxed);
      const bool wanted = activity != seenActivity || (isSender_ && finished_ < seenWork_);
      seenActivity = activity;
      napFor(nap);
      nap = wanted ? kMinNap : std::min(nap * 2, kMaxNap);
    }
  }

  bool acceptPeer() {
    const auto deadline = Clock::now() + std::chrono::duration<double>(spec_.setupTimeoutSec);
    Micros nap = kMinNap;
    while (!recvComm_) {
      if (stop_.load()) return false;
      if (aborted()) return fail(ncclRemoteError, "aborted while waiting for the peer to connect");
      ncclResult_t res = net_->accept(listen_, &recvComm_);
      if (res != ncclSuccess) return pluginFailed("accept()", res);
      if (recvComm_) break;
      if (Clock::now() > deadline)
        return fail(ncclRemoteError, "rank %d did not connect within %.0f s", spec_.peer,
                    spec_.setupTimeoutSec);
      napFor(nap);
      nap = std::min(nap * 2, kMaxNap);
    }
    listen_.reset();
    std::string why;
    if (registerSlots(recvComm_, &why) != ncclSuccess)
      return fail(ncclSystemError, "%s", why.c_str());
    INFO(kLogNet, "rank %d: %s connected", spec_.self, describe().c_str());
    return true;
  }

  char* slot(uint64_t index) const { return slots_ + (index % nSlots_) * spec_.slotBytes; }

  // Posts an isend for every committed slot (in order, as long as the plugin takes them) and
  // completes them in order.
  bool progressSends(bool* progressed) {
    std::lock_guard<std::mutex> lock(callerMutex_);
    if (failed_.load()) return false;
    if (spec_.callerMemory && spec_.callerMemory->removals() != seenRemovals_)
      dropDeadRegistrations();
    ncclResult_t postError = ncclSuccess;  // reported after what completed before it
    seenWork_ = head_.load(std::memory_order_acquire);
    while (posted_ < seenWork_ && posted_ - finished_ < maxInflight_) {
      const uint64_t s = posted_ % nSlots_;
      void* data = slot(posted_);
      const NetMemoryRegistration* mr = &mr_;
      if (sources_[s].data) {
        mr = callerRegistration(sources_[s].region);
        if (mr) {
          data = const_cast<char*>(sources_[s].data);  // isend's ABI takes void*
        } else {
          memcpy(data, sources_[s].data, sizes_[s]);
          mr = &mr_;
        }
      }
      postError = net_->isend(sendComm_, data, sizes_[s], spec_.tag, *mr, &requests_[s]);
      if (postError != ncclSuccess || !requests_[s].pending()) break;  // no request: full
      ++posted_;
      *progressed = true;
    }
    while (finished_ < posted_) {
      bool done = false;
      int size = 0;
      ncclResult_t res = net_->test(requests_[finished_ % nSlots_], &done, {&size, 1});
      if (res != ncclSuccess) return pluginFailed("test() of a send", res);
      if (!done) break;
      completed_.store(++finished_, std::memory_order_release);
      *progressed = true;
    }
    return postError == ncclSuccess || pluginFailed("isend()", postError);
  }

  // Keeps an irecv posted on every free slot; completes them in order, each flushed first
  // when it landed in GPU memory.
  bool progressRecvs(bool* progressed) {
    // A failed post is reported after the receives that completed before it: a peer that
    // closes after its last message must not lose that message to an irecv posted ahead.
    ncclResult_t postError = ncclSuccess;
    seenWork_ = released_.load(std::memory_order_acquire);
    while (posted_ < seenWork_ + nSlots_ && posted_ - finished_ < maxInflight_) {
      NetBuffer buffer{slot(posted_), spec_.slotBytes, spec_.tag, &mr_};
      NetRequest& req = requests_[posted_ % nSlots_];
      postError = net_->irecv(recvComm_, {&buffer, 1}, &req);
      if (postError != ncclSuccess || !req.pending()) break;
      ++posted_;
      *progressed = true;
    }
    while (finished_ < posted_) {
      const uint64_t s = finished_ % nSlots_;
      if (!flushing_[s]) {
        bool done = false;
        int size = 0;
        ncclResult_t res = net_->test(requests_[s], &done, {&size, 1});
        if (res != ncclSuccess) return pluginFailed("test() of a receive", res);
        if (!done) break;
        if (size < 0 || static_cast<size_t>(size) > spec_.slotBytes)
          return fail(ncclSystemError, "NET/%s reported %d bytes received into a %zu-byte slot",
                      net_->name().c_str(), size, spec_.slotBytes);
        sizes_[s] = static_cast<size_t>(size);
        *progressed = true;
        // NCCL flushes every non-empty receive into GPU memory before the GPU reads it.
        if (device_ && size > 0) {
          NetBuffer buffer{slot(finished_), sizes_[s], spec_.tag, &mr_};
          res = net_->iflush(recvComm_, {&buffer, 1}, &flushes_[s]);
          if (res != ncclSuccess) return pluginFailed("iflush()", res);
          flushing_[s] = flushes_[s].pending();  // no request: nothing to wait for
        }
      }
      if (flushing_[s]) {
        bool done = false;
        ncclResult_t res = net_->test(flushes_[s], &done, {});
        if (res != ncclSuccess) return pluginFailed("test() of a flush", res);
        if (!done) break;
        flushing_[s] = 0;
      }
      arrived_.store(++finished_, std::memory_order_release);
      *progressed = true;
    }
    return postError == ncclSuccess || pluginFailed("irecv()", postError);
  }

  // The registration of a caller region with the send comm, made on first use. Null when the
  // plugin refuses it: the slot is then staged, and so are later sends (one WARN says why).
  const NetMemoryRegistration* callerRegistration(const CallerRegion& region) {
    if (region.id == 0) return nullptr;
    auto it = callerRegistrations_.find(region.id);
    if (it != callerRegistrations_.end()) return &it->second;
    NetMemoryRegistration reg;
    const ncclResult_t res =
        net_->regMr(sendComm_, region.base, region.bytes, netabi::kPtrHost, &reg);
    if (res != ncclSuccess) {
      if (!refusedCallerMemory_.exchange(true))
        WARN(
            "rank %d: NET/%s regMr of a %zu-byte caller buffer at %p returned %s: sends to rank "
            "%d are staged from now on",
            spec_.self, net_->name().c_str(), region.bytes, static_cast<void*>(region.base),
            resultName(res), spec_.peer);
      return nullptr;
    }
    return &callerRegistrations_.emplace(region.id, std::move(reg)).first->second;
  }

  // Deregisters the regions freed (ncclMemFree, ncclCommDeregister) that no send in flight
  // still reads.
  void dropDeadRegistrations() {
    seenRemovals_ = spec_.callerMemory->removals();
    for (auto it = callerRegistrations_.begin(); it != callerRegistrations_.end();) {
      bool inUse = false;
      for (uint64_t i = finished_; i < posted_ && !inUse; ++i)
        inUse = sources_[i % nSlots_].region.id == it->first;
      if (inUse) seenRemovals_ = 0;  // look again at the next pass
      if (!inUse && !spec_.callerMemory->alive(it->first))
        it = callerRegistrations_.erase(it);
      else
        ++it;
    }
  }

  // Waits (bounded by closeTimeoutSec) until every committed send completed: closing earlier
  // could cut off slots the peer still expects.
  void drainSends() {
    if (!isSender_) return;
    const auto deadline = Clock::now() + std::chrono::duration<double>(spec_.closeTimeoutSec);
    while (!failed_.load() && !aborted() && Clock::now() < deadline) {
      if (completed_.load(std::memory_order_acquire) >= head_.load(std::memory_order_acquire))
        return;
      kick();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  const bool isSender_;
  const std::shared_ptr<NetPlugin> net_;
  const int dev_;
  const PluginNetConnectionSpec spec_;  // without its shared resources, held below
  const uint64_t nSlots_;
  const uint64_t maxInflight_;  // requests this side keeps in flight
  // Destroyed in reverse order: registration, comms, steps, staging, device memory.
  const std::optional<PluginSlotMemory> device_;
  HostStaging staging_;
  std::shared_ptr<AsyncSteps> steps_;
  char* slots_ = nullptr;     // the slots as the plugin addresses them
  char* stepBase_ = nullptr;  // the slots as the executor's steps address them
  NetListenComm listen_;
  NetSendComm sendComm_;
  NetRecvComm recvComm_;
  NetMemoryRegistration mr_;
  std::map<uint64_t, NetMemoryRegistration> callerRegistrations_;  // helper; by region id
  std::thread helper_;

  // Helper thread only (after setup).
  std::vector<NetRequest> requests_, flushes_;  // per slot
  std::vector<uint8_t> flushing_;               // per slot: its flush is in flight
  uint64_t posted_ = 0;                         // requests posted
  uint64_t finished_ = 0;                       // requests completed, in order
  uint64_t seenWork_ = 0;                       // head_ or released_ when last looked at

  // Sender: where a committed slot's bytes are, when not in the slot (executor writes).
  struct SlotSource {
    const char* data = nullptr;
    CallerRegion region;  // id 0: none (staged by the helper)
  };
  std::vector<SlotSource> sources_;
  uint64_t seenRemovals_ = 0;  // helper: CallerMemory::removals() at the last sweep
  // Sender: bytes committed per slot (executor writes). Receiver: bytes arrived (helper writes).
  std::vector<size_t> sizes_;
  uint64_t sent_ = 0, received_ = 0;              // executor thread only
  mutable std::optional<CallerRegion> accepted_;  // executor: canSendFrom's last yes
  uint64_t lastFromCaller_ = 0;         // executor: 1 + the last slot committed from caller memory
  uint64_t zeroCopySlots_ = 0;          // executor
  std::atomic<uint64_t> head_{0};       // sender: slots committed
  std::atomic<uint64_t> completed_{0};  // sender: sends completed
  std::atomic<uint64_t> released_{0};   // receiver: slots the executor released
  std::atomic<uint64_t> arrived_{0};    // receiver: slots received (and flushed)
  std::atomic<uint64_t> activity_{0};   // executor calls, watched by the helper

  std::atomic<bool> stop_{false}, failed_{false}, sleeping_{false};
  std::atomic<bool> abandoned_{false}, refusedCallerMemory_{false};
  std::mutex callerMutex_;  // held by the helper while it drives sends
  std::mutex napMutex_;
  std::condition_variable napCv_;
  uint64_t kicks_ = 0;
  std::mutex errorMutex_;
  std::string error_;
  ncclResult_t errorCode_ = ncclSuccess;
};

ncclResult_t checkSpec(const NetPlugin* net, int dev, const PluginNetConnectionSpec& spec) {
  if (!net) return setError(ncclInternalError, "plugin net hop without a plugin");
  if (dev < 0 || dev >= net->deviceCount())
    return setError(ncclInvalidArgument, "NET/%s has no device %d (it has %d)", net->name().c_str(),
                    dev, net->deviceCount());
  if (spec.nSlots < 1 || spec.nSlots > kMaxSlots)
    return setError(ncclInternalError, "net FIFO with %d slots (1..%d)", spec.nSlots, kMaxSlots);
  const size_t maxMessage = net->maxMessageBytes(dev);
  if (maxMessage == 0)
    return setError(ncclSystemError, "NET/%s dev %d reports a maxP2pBytes of 0",
                    net->name().c_str(), dev);
  if (spec.slotBytes == 0 || spec.slotBytes > maxMessage)
    return setError(ncclInvalidUsage,
                    "TCCL_CHUNK_SIZE=%zu: NET/%s (ABI v%d) dev %d moves at most %zu bytes at once",
                    spec.slotBytes, net->name().c_str(), net->abiVersion(), dev, maxMessage);
  if (spec.slotBytes * static_cast<size_t>(spec.nSlots) > net->maxRegistrationBytes())
    return setError(ncclInvalidUsage,
                    "a %d x %zu-byte slot buffer is more than NET/%s (ABI v%d) can register",
                    spec.nSlots, spec.slotBytes, net->name().c_str(), net->abiVersion());
  if (spec.deviceSlots) {
    const PluginSlotMemory& m = *spec.deviceSlots;
    const int support = net->device(dev).ptrSupport;
    if (!m.memory) return setError(ncclInternalError, "GPU-direct plugin hop without slot memory");
    if (m.ptrType != netabi::kPtrCuda)
      return setError(ncclInternalError, "GPU-direct slot memory of pointer type %d", m.ptrType);
    const bool reachable =
        (support & netabi::kPtrCuda) || (m.dmabufFd >= 0 && net->supportsDmaBuf(dev));
    if (!reachable)
      return setError(ncclInvalidUsage,
                      "NET/%s dev %d cannot reach GPU memory (ptrSupport %#x): the hop must "
                      "stage through host memory",
                      net->name().c_str(), dev, support);
  }
  return ncclSuccess;
}

ncclResult_t create(bool isSender, std::shared_ptr<NetPlugin> net, int dev,
                    const PluginNetConnectionSpec& spec,
                    std::unique_ptr<PluginNetConnection>* out) {
  TCCL_CHECK(checkSpec(net.get(), dev, spec));
  auto conn = std::make_unique<PluginNetConnection>(isSender, std::move(net), dev, spec);
  TCCL_CHECK(conn->prepareMemory());
  *out = std::move(conn);
  return ncclSuccess;
}

}  // namespace

ncclResult_t pluginNetPrepareSend(std::shared_ptr<NetPlugin> net, int dev,
                                  const PluginNetConnectionSpec& spec,
                                  std::unique_ptr<Connection>* out) {
  std::unique_ptr<PluginNetConnection> conn;
  TCCL_CHECK(create(true, std::move(net), dev, spec, &conn));
  *out = std::move(conn);
  return ncclSuccess;
}

ncclResult_t pluginNetListen(std::shared_ptr<NetPlugin> net, int dev,
                             const PluginNetConnectionSpec& spec, NetHandle* handle,
                             std::unique_ptr<Connection>* out) {
  std::unique_ptr<PluginNetConnection> conn;
  TCCL_CHECK(create(false, std::move(net), dev, spec, &conn));
  TCCL_CHECK(conn->listen(handle));
  conn->start();
  INFO(kLogNet, "rank %d: %s listening", spec.self, conn->describe().c_str());
  *out = std::move(conn);
  return ncclSuccess;
}

ncclResult_t pluginNetConnect(Connection& sender, const NetHandle& handle) {
  auto* conn = dynamic_cast<PluginNetConnection*>(&sender);
  if (!conn || !conn->awaitsConnect())
    return setError(ncclInternalError,
                    "pluginNetConnect on a connection that is not an unconnected plugin sender");
  TCCL_CHECK(conn->connect(handle));
  conn->start();
  INFO(kLogNet, "%s connected", conn->describe().c_str());
  return ncclSuccess;
}

}  // namespace tccl
