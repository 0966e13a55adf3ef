#include "transport/cuda/cuda_connection.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstddef>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/log.h"
#include "device/cuda/cuda_backend.h"
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_raii.h"
#include "transport/attach_handshake.h"
#include "transport/shm/shm_segment.h"

namespace tccl {
namespace {

constexpr uint32_t kMagic = 0x7CC1C0DA;
constexpr int kMaxSlots = 64;
constexpr size_t kDataOffset = 4096;
constexpr size_t kPage = 4096;

enum class Placement : uint32_t { kReceiverGpu = 1, kSenderGpu = 2, kHost = 3 };

Placement placementOf(HopKind kind) {
  switch (kind) {
    case HopKind::kP2pWrite:
      return Placement::kReceiverGpu;
    case HopKind::kP2pRead:
      return Placement::kSenderGpu;
    default:
      return Placement::kHost;
  }
}

struct FifoHeader {
  alignas(64) uint32_t head;  // slots committed: written by the sender's stream
  alignas(64) uint32_t tail;  // slots released: written by the receiver's stream
  alignas(64) uint32_t magic;
  uint32_t nSlots;
  uint64_t slotBytes;
  uint32_t placement;
  int32_t senderPid;
  std::atomic<int32_t> receiverPid;
  // A device buffer, published by its owner (the receiver for p2p_write, else the sender).
  std::atomic<uint32_t> bufferReady;
  int32_t bufferPid;
  int32_t bufferDev;
  uint64_t bufferPtr;  // used instead of the IPC handle by a peer in the same process
  cudaIpcMemHandle_t bufferHandle;
  uint64_t sizes[kMaxSlots];  // bytes of each committed slot, written by the sender's host
};
static_assert(sizeof(FifoHeader) <= kDataOffset);

struct ConnectMessage {
  char name[64];
  uint64_t slotBytes;
  uint32_t nSlots;
  uint32_t placement;
};

size_t segmentBytes(Placement p, size_t slotBytes, int nSlots) {
  size_t bytes =
      kDataOffset + (p == Placement::kHost ? slotBytes * static_cast<size_t>(nSlots) : 0);
  return (bytes + kPage - 1) / kPage * kPage;
}

uint32_t loadCounter(uint32_t* p) {
  return std::atomic_ref<uint32_t>(*p).load(std::memory_order_acquire);
}

class CudaConnection final : public Connection {
 public:
  CudaConnection(bool isSender, int peer, const CudaConnectionSpec& spec, CudaBackend& dev,
                 ShmSegment seg, HostRegistration reg, char* segDev)
      : isSender_(isSender),
        peer_(peer),
        spec_(spec),
        dev_(dev),
        seg_(std::move(seg)),
        reg_(std::move(reg)),
        segDev_(segDev) {
    hdr_ = static_cast<FifoHeader*>(seg_.data());
    placement_ = static_cast<Placement>(hdr_->placement);
    if (placement_ == Placement::kHost) data_ = segDev_ + kDataOffset;
  }

  ~CudaConnection() override {
    // Counter writes still queued on the stream target the header we are about to unmap.
    (void)cudaStreamSynchronize(dev_.stream());
  }

  // The owner's side of a device buffer: allocate it and publish it in the header.
  ncclResult_t publishBuffer() {
    const size_t bytes = spec_.slotBytes * static_cast<size_t>(spec_.nSlots);
    DeviceGuard guard(dev_.device());
    TCCL_CUDA_CHECK(guard.status());
    TCCL_CUDA_CHECK(allocDevice(bytes, &buffer_));
    TCCL_CUDA_CHECK(cudaIpcGetMemHandle(&hdr_->bufferHandle, buffer_.get()));
    hdr_->bufferPid = getpid();
    hdr_->bufferDev = dev_.device();
    hdr_->bufferPtr = reinterpret_cast<uintptr_t>(buffer_.get());
    hdr_->bufferReady.store(1, std::memory_order_release);
    data_ = static_cast<char*>(buffer_.get());
    return ncclSuccess;
  }

  // The other side: map the peer's buffer once it is published. False while it is not (or
  // after a failure, kept for checkPeer).
  bool attachPeerBuffer() {
    if (failed_ || !hdr_->bufferReady.load(std::memory_order_acquire)) return false;
    ncclResult_t res = mapPeerBuffer();
    if (res != ncclSuccess) {
      failed_ = true;
      failure_ = res;
      failureMessage_ = lastThreadError();
      return false;
    }
    return true;
  }

  size_t slotBytes() const override { return spec_.slotBytes; }

  void* trySendSlot() override {
    if (!data_ && !attachPeerBuffer()) return nullptr;
    if (sent_ - cachedTail_ >= nSlots()) {
      cachedTail_ = loadCounter(&hdr_->tail);
      if (sent_ - cachedTail_ >= nSlots()) return nullptr;
    }
    return data_ + sendSlot_ * spec_.slotBytes;
  }

  void commitSend(size_t bytes) override {
    hdr_->sizes[sendSlot_] = bytes;
    // The size reaches memory before the GPU can publish the slot.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    sendSlot_ = (sendSlot_ + 1) % nSlots();
    dev_.writeCounter(segDev_ + offsetof(FifoHeader, head), ++sent_);
  }

  const void* tryRecvSlot(size_t* bytes) override {
    if (!data_ && !attachPeerBuffer()) return nullptr;
    if (received_ == cachedHead_) {
      cachedHead_ = loadCounter(&hdr_->head);
      if (received_ == cachedHead_) return nullptr;
    }
    *bytes = hdr_->sizes[recvSlot_];
    return data_ + recvSlot_ * spec_.slotBytes;
  }

  void releaseRecv() override {
    recvSlot_ = (recvSlot_ + 1) % nSlots();
    dev_.writeCounter(segDev_ + offsetof(FifoHeader, tail), ++received_);
  }

  ncclResult_t checkPeer() override {
    if (failed_) return setError(failure_, "%s: %s", describe().c_str(), failureMessage_.c_str());
    int pid = isSender_ ? hdr_->receiverPid.load() : hdr_->senderPid;
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
      return setError(ncclRemoteError, "rank %d (pid %d) has exited: the CUDA hop %s is dead",
                      peer_, pid, describe().c_str());
    return dev_.checkStream();
  }

  int peer() const override { return peer_; }

  std::string describe() const override {
    return std::string(isSender_ ? "send to rank " : "recv from rank ") + std::to_string(peer_) +
           " via cuda " + describeHop(spec_.hop) + " " + seg_.name();
  }

  bool copyEngine() const override {
    const Hop& h = spec_.hop;
    switch (placement_) {
      case Placement::kReceiverGpu:
        return isSender_ && h.engine == Engine::kCopyEngine;
      case Placement::kSenderGpu:
        return !isSender_ && h.engine == Engine::kCopyEngine;
      case Placement::kHost:
        return (isSender_ ? h.engine : h.readEngine) == Engine::kCopyEngine;
    }
    return false;
  }

 private:
  uint32_t nSlots() const { return static_cast<uint32_t>(spec_.nSlots); }

  ncclResult_t mapPeerBuffer() {
    DeviceGuard guard(dev_.device());
    TCCL_CUDA_CHECK(guard.status());
    const int owner = hdr_->bufferDev;
    if (owner != dev_.device()) {
      int can = 0;
      TCCL_CUDA_CHECK(cudaDeviceCanAccessPeer(&can, dev_.device(), owner));
      if (!can)
        return setError(
            ncclInvalidUsage,
            "GPU %d cannot reach GPU %d peer-to-peer: the plan's %s hop is not possible "
            "on this machine (a host-bounce hop is)",
            dev_.device(), owner, describeHop(spec_.hop).c_str());
    }
    if (hdr_->bufferPid == getpid()) {
      // cudaIpcOpenMemHandle refuses the exporting process: use the pointer itself.
      if (owner != dev_.device()) {
        cudaError_t e = cudaDeviceEnablePeerAccess(owner, 0);
        if (e == cudaErrorPeerAccessAlreadyEnabled)
          (void)cudaGetLastError();
        else
          TCCL_CUDA_CHECK(e);
      }
      data_ = reinterpret_cast<char*>(hdr_->bufferPtr);
      return ncclSuccess;
    }
    TCCL_CUDA_CHECK(openIpc(hdr_->bufferHandle, &ipc_));
    data_ = static_cast<char*>(ipc_.get());
    return ncclSuccess;
  }

  bool isSender_;
  int peer_;
  CudaConnectionSpec spec_;
  CudaBackend& dev_;
  // Declared in teardown order: mappings and buffers go before the segment they live in.
  ShmSegment seg_;
  HostRegistration reg_;
  DeviceMemory buffer_;
  IpcMapping ipc_;
  FifoHeader* hdr_ = nullptr;
  char* segDev_;  // the header as the GPU sees it
  char* data_ = nullptr;
  Placement placement_ = Placement::kHost;
  uint32_t sent_ = 0, cachedTail_ = 0, sendSlot_ = 0;
  uint32_t received_ = 0, cachedHead_ = 0, recvSlot_ = 0;
  bool failed_ = false;
  ncclResult_t failure_ = ncclSuccess;
  std::string failureMessage_;
};

ncclResult_t checkSpec(const CudaConnectionSpec& spec) {
  if (spec.nSlots < 1 || spec.nSlots > kMaxSlots)
    return setError(ncclInternalError, "CUDA FIFO with %d slots (1..%d)", spec.nSlots, kMaxSlots);
  if (spec.hop.kind == HopKind::kNet)
    return setError(ncclInternalError, "a net hop is not a CUDA intra-node connection");
  return ncclSuccess;
}

ncclResult_t registerSegment(CudaBackend& dev, const ShmSegment& seg, HostRegistration* reg,
                             char** segDev) {
  DeviceGuard guard(dev.device());
  TCCL_CUDA_CHECK(guard.status());
  void* p = nullptr;
  TCCL_CUDA_CHECK(registerHost(seg.data(), seg.size(), reg, &p));
  *segDev = static_cast<char*>(p);
  return ncclSuccess;
}

}  // namespace

ncclResult_t cudaConnectSend(Bootstrap& bootstrap, int peer, const CudaConnectionSpec& spec,
                             CudaBackend& device, std::unique_ptr<Connection>* out) {
  TCCL_CHECK(checkSpec(spec));
  const Placement placement = placementOf(spec.hop.kind);
  char what[64];
  snprintf(what, sizeof(what), "cu-%016" PRIx64 "-%08x-%d-%d", bootstrap.jobHash(), spec.tag,
           bootstrap.rank(), peer);
  const std::string name = ownedShmName(what);
  const int numa = placement == Placement::kHost ? spec.hop.numa : -1;
  ShmSegment seg;
  TCCL_CHECK(
      ShmSegment::create(name, segmentBytes(placement, spec.slotBytes, spec.nSlots), numa, &seg));
  auto* hdr = new (seg.data()) FifoHeader{};
  hdr->magic = kMagic;
  hdr->nSlots = static_cast<uint32_t>(spec.nSlots);
  hdr->slotBytes = spec.slotBytes;
  hdr->placement = static_cast<uint32_t>(placement);
  hdr->senderPid = getpid();
  HostRegistration reg;
  char* segDev = nullptr;
  TCCL_CHECK(registerSegment(device, seg, &reg, &segDev));
  auto conn = std::make_unique<CudaConnection>(true, peer, spec, device, std::move(seg),
                                               std::move(reg), segDev);
  if (placement == Placement::kSenderGpu) TCCL_CHECK(conn->publishBuffer());
  ConnectMessage msg{};
  snprintf(msg.name, sizeof(msg.name), "%s", name.c_str());
  msg.slotBytes = spec.slotBytes;
  msg.nSlots = static_cast<uint32_t>(spec.nSlots);
  msg.placement = static_cast<uint32_t>(placement);
  TCCL_CHECK(bootstrap.send(peer, spec.tag, &msg, sizeof(msg)));
  INFO(kLogP2p, "%s", conn->describe().c_str());
  *out = std::move(conn);
  return ncclSuccess;
}

ncclResult_t cudaConnectRecv(Bootstrap& bootstrap, int peer, const CudaConnectionSpec& spec,
                             CudaBackend& device, std::unique_ptr<Connection>* out) {
  TCCL_CHECK(checkSpec(spec));
  const Placement placement = placementOf(spec.hop.kind);
  ConnectMessage msg{};
  TCCL_CHECK(bootstrap.recv(peer, spec.tag, &msg, sizeof(msg)));
  msg.name[sizeof(msg.name) - 1] = '\0';
  if (msg.slotBytes != spec.slotBytes || msg.nSlots != static_cast<uint32_t>(spec.nSlots) ||
      msg.placement != static_cast<uint32_t>(placement))
    return setError(ncclInvalidUsage,
                    "rank %d connects with %" PRIu64
                    "-byte x %u slots (placement %u) but this rank "
                    "expects %zu x %d (placement %u): ranks disagree on TCCL_CHUNK_SIZE, "
                    "TCCL_FIFO_SLOTS or the plan",
                    peer, msg.slotBytes, msg.nSlots, msg.placement, spec.slotBytes, spec.nSlots,
                    static_cast<uint32_t>(placement));
  ShmSegment seg;
  TCCL_CHECK(
      ShmSegment::open(msg.name, segmentBytes(placement, spec.slotBytes, spec.nSlots), &seg));
  auto* hdr = static_cast<FifoHeader*>(seg.data());
  if (hdr->magic != kMagic || hdr->slotBytes != spec.slotBytes || hdr->nSlots != msg.nSlots ||
      hdr->placement != msg.placement)
    return setError(ncclSystemError, "shared memory %s does not hold a valid CUDA FIFO", msg.name);
  hdr->receiverPid.store(getpid());
  seg.unlink();
  HostRegistration reg;
  char* segDev = nullptr;
  TCCL_CHECK(registerSegment(device, seg, &reg, &segDev));
  auto conn = std::make_unique<CudaConnection>(false, peer, spec, device, std::move(seg),
                                               std::move(reg), segDev);
  if (placement == Placement::kReceiverGpu) {
    TCCL_CHECK(conn->publishBuffer());
  } else if (placement == Placement::kSenderGpu && !conn->attachPeerBuffer()) {
    TCCL_CHECK(conn->checkPeer());  // the sender published before its message: a real failure
    return setError(ncclInternalError, "rank %d sent no device buffer for %s", peer, msg.name);
  }
  INFO(kLogP2p, "%s", conn->describe().c_str());
  *out = std::move(conn);
  return confirmAttached(bootstrap, peer, spec.tag);
}

ncclResult_t cudaAwaitReceiver(Bootstrap& bootstrap, int peer, const CudaConnectionSpec& spec) {
  return awaitAttached(bootstrap, peer, spec.tag);
}

}  // namespace tccl
