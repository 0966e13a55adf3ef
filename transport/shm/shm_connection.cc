#include "transport/shm/shm_connection.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstring>

#include "base/error.h"
#include "base/log.h"
#include "transport/attach_handshake.h"
#include "transport/shm/shm_segment.h"

namespace tccl {
namespace {

constexpr uint32_t kFifoMagic = 0x7CC1F1F0;
constexpr int kMaxSlots = 64;
constexpr size_t kDataOffset = 4096;

struct FifoHeader {
  alignas(64) std::atomic<uint64_t> head;  // slots committed by the sender
  alignas(64) std::atomic<uint64_t> tail;  // slots released by the receiver
  alignas(64) uint32_t magic;
  uint32_t nSlots;
  uint64_t slotBytes;
  int32_t senderPid;
  std::atomic<int32_t> receiverPid;
  uint64_t sizes[kMaxSlots];
};
static_assert(sizeof(FifoHeader) <= kDataOffset);

struct ConnectMessage {
  char name[64];
  uint64_t slotBytes;
  uint32_t nSlots;
};

class ShmConnection final : public Connection {
 public:
  ShmConnection(ShmSegment seg, bool isSender, int peer)
      : seg_(std::move(seg)), isSender_(isSender), peer_(peer) {
    hdr_ = static_cast<FifoHeader*>(seg_.data());
    data_ = static_cast<char*>(seg_.data()) + kDataOffset;
    slotBytes_ = hdr_->slotBytes;
    nSlots_ = hdr_->nSlots;
  }

  size_t slotBytes() const override { return slotBytes_; }

  void* trySendSlot() override {
    if (sent_ - cachedTail_ >= nSlots_) {
      cachedTail_ = hdr_->tail.load(std::memory_order_acquire);
      if (sent_ - cachedTail_ >= nSlots_) return nullptr;
    }
    return data_ + (sent_ % nSlots_) * slotBytes_;
  }

  void commitSend(size_t bytes) override {
    hdr_->sizes[sent_ % nSlots_] = bytes;
    hdr_->head.store(++sent_, std::memory_order_release);
  }

  const void* tryRecvSlot(size_t* bytes) override {
    if (received_ >= cachedHead_) {
      cachedHead_ = hdr_->head.load(std::memory_order_acquire);
      if (received_ >= cachedHead_) return nullptr;
    }
    *bytes = hdr_->sizes[received_ % nSlots_];
    return data_ + (received_ % nSlots_) * slotBytes_;
  }

  void releaseRecv() override { hdr_->tail.store(++received_, std::memory_order_release); }

  ncclResult_t checkPeer() override {
    int pid = isSender_ ? hdr_->receiverPid.load() : hdr_->senderPid;
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
      return setError(ncclRemoteError,
                      "rank %d (pid %d) has exited: the shared-memory hop %s is dead", peer_, pid,
                      describe().c_str());
    return ncclSuccess;
  }

  int peer() const override { return peer_; }

  std::string describe() const override {
    return std::string(isSender_ ? "send to rank " : "recv from rank ") + std::to_string(peer_) +
           " via shm " + seg_.name();
  }

 private:
  ShmSegment seg_;
  bool isSender_;
  int peer_;
  FifoHeader* hdr_;
  char* data_;
  size_t slotBytes_;
  uint64_t nSlots_;
  uint64_t sent_ = 0, cachedTail_ = 0;
  uint64_t received_ = 0, cachedHead_ = 0;
};

}  // namespace

ncclResult_t shmConnectSend(Bootstrap& bootstrap, int peer, const ShmConnectionSpec& spec,
                            std::unique_ptr<Connection>* out) {
  if (spec.nSlots < 1 || spec.nSlots > kMaxSlots)
    return setError(ncclInternalError, "shm FIFO with %d slots (1..%d)", spec.nSlots, kMaxSlots);
  char what[64];
  snprintf(what, sizeof(what), "%016" PRIx64 "-%08x-%d-%d", bootstrap.jobHash(), spec.tag,
           bootstrap.rank(), peer);
  const std::string name = ownedShmName(what);
  ShmSegment seg;
  TCCL_CHECK(
      ShmSegment::create(name, kDataOffset + spec.slotBytes * spec.nSlots, spec.numaNode, &seg));
  auto* hdr = new (seg.data()) FifoHeader{};
  hdr->magic = kFifoMagic;
  hdr->nSlots = static_cast<uint32_t>(spec.nSlots);
  hdr->slotBytes = spec.slotBytes;
  hdr->senderPid = getpid();
  ConnectMessage msg{};
  snprintf(msg.name, sizeof(msg.name), "%s", name.c_str());
  msg.slotBytes = spec.slotBytes;
  msg.nSlots = static_cast<uint32_t>(spec.nSlots);
  TCCL_CHECK(bootstrap.send(peer, spec.tag, &msg, sizeof(msg)));
  // The receiver unlinks the name once it has mapped it; we unlink at destruction as well in
  // case it never did (ENOENT is harmless).
  *out = std::make_unique<ShmConnection>(std::move(seg), true, peer);
  return ncclSuccess;
}

ncclResult_t shmConnectRecv(Bootstrap& bootstrap, int peer, const ShmConnectionSpec& spec,
                            std::unique_ptr<Connection>* out) {
  ConnectMessage msg{};
  TCCL_CHECK(bootstrap.recv(peer, spec.tag, &msg, sizeof(msg)));
  msg.name[sizeof(msg.name) - 1] = '\0';
  if (msg.slotBytes != spec.slotBytes || msg.nSlots != static_cast<uint32_t>(spec.nSlots))
    return setError(ncclInvalidUsage,
                    "rank %d uses %" PRIu64
                    "-byte x %u FIFO slots but this rank %zu x %d: "
                    "TCCL_CHUNK_SIZE/TCCL_FIFO_SLOTS must be equal on all ranks",
                    peer, msg.slotBytes, msg.nSlots, spec.slotBytes, spec.nSlots);
  ShmSegment seg;
  TCCL_CHECK(ShmSegment::open(msg.name, kDataOffset + spec.slotBytes * spec.nSlots, &seg));
  auto* hdr = static_cast<FifoHeader*>(seg.data());
  if (hdr->magic != kFifoMagic || hdr->slotBytes != spec.slotBytes || hdr->nSlots != msg.nSlots)
    return setError(ncclSystemError, "shared memory %s does not hold a valid FIFO", msg.name);
  hdr->receiverPid.store(getpid());
  seg.unlink();
  *out = std::make_unique<ShmConnection>(std::move(seg), false, peer);
  return confirmAttached(bootstrap, peer, spec.tag);
}

ncclResult_t shmAwaitReceiver(Bootstrap& bootstrap, int peer, const ShmConnectionSpec& spec) {
  return awaitAttached(bootstrap, peer, spec.tag);
}

}  // namespace tccl
