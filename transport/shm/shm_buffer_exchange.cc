#include "transport/shm/shm_buffer_exchange.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "transport/shm/shared_alloc.h"
#include "transport/shm/shm_segment.h"

namespace tccl {
namespace {

constexpr size_t kMaxMappings = 256;

// A rank can be one operation ahead of the slowest (it cannot publish seq + 2 before everybody
// published seq + 1), so operations alternate between two tables: publishing seq + 1 never
// overwrites what a slower rank still reads for seq.
constexpr int kTables = 2;

struct alignas(64) Slot {
  std::atomic<uint64_t> seq;    // the last operation this rank published in this table
  std::atomic<uint64_t> phase;  // seq * 4 + the last phase it arrived at (table 0 only)
  int32_t pid;
  int32_t sendShared, recvShared;
  SharedRange send, recv;
};

class ShmBufferExchange final : public BufferExchange {
 public:
  ShmBufferExchange(ShmSegment seg, int rank, int nranks)
      : seg_(std::move(seg)), rank_(rank), n_(nranks) {
    slots_ = static_cast<Slot*>(seg_.data());
    slots_[rank_].pid = getpid();
  }
  ~ShmBufferExchange() override {
    for (auto& [key, m] : mappings_) munmap(m.base, m.bytes);
  }

  void publish(uint64_t seq, const void* send, size_t sendBytes, void* recv,
               size_t recvBytes) override {
    Slot& me = slot(seq, rank_);
    me.sendShared = findSharedRange(send, sendBytes, &me.send);
    me.recvShared = findSharedRange(recv, recvBytes, &me.recv);
    mySend_ = static_cast<const char*>(send);
    myRecv_ = static_cast<char*>(recv);
    me.seq.store(seq, std::memory_order_release);
  }

  ncclResult_t tryCollect(uint64_t seq, std::vector<PeerBuffers>* peers, bool* ready) override {
    *ready = false;
    for (int r = 0; r < n_; ++r)
      if (slot(seq, r).seq.load(std::memory_order_acquire) != seq) return ncclSuccess;
    peers->assign(n_, PeerBuffers{});
    for (int r = 0; r < n_; ++r) {
      const Slot& s = slot(seq, r);
      if (r == rank_) {
        if (s.sendShared && s.recvShared) (*peers)[r] = PeerBuffers{mySend_, myRecv_};
        continue;
      }
      if (!s.sendShared || !s.recvShared) continue;
      char* send = nullptr;
      char* recv = nullptr;
      TCCL_CHECK(map(r, s.send, &send));
      TCCL_CHECK(map(r, s.recv, &recv));
      (*peers)[r] = PeerBuffers{send, recv};
    }
    *ready = true;
    return ncclSuccess;
  }

  void arrive(uint64_t seq, int phase) override {
    slots_[rank_].phase.store(seq * 4 + static_cast<uint64_t>(phase), std::memory_order_release);
  }

  bool allArrived(uint64_t seq, int phase) override {
    const uint64_t want = seq * 4 + static_cast<uint64_t>(phase);
    for (int r = 0; r < n_; ++r)
      if (slots_[r].phase.load(std::memory_order_acquire) < want) return false;
    return true;
  }

  int firstMissing(uint64_t seq, int phase) override {
    const uint64_t want = seq * 4 + static_cast<uint64_t>(phase);
    for (int r = 0; r < n_; ++r)
      if (phase == 0 ? slot(seq, r).seq.load(std::memory_order_acquire) != seq
                     : slots_[r].phase.load(std::memory_order_acquire) < want)
        return r;
    return -1;
  }

  ncclResult_t checkPeers() override {
    for (int r = 0; r < n_; ++r) {
      const int pid = slots_[r].pid;
      if (r != rank_ && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
        return setError(ncclRemoteError, "rank %d (pid %d) has exited during a direct allreduce", r,
                        pid);
    }
    return ncclSuccess;
  }

 private:
  struct Mapping {
    char* base;
    size_t bytes;
  };

  Slot& slot(uint64_t seq, int rank) { return slots_[(seq % kTables) * n_ + rank]; }

  ncclResult_t map(int rank, const SharedRange& range, char** out) {
    auto key = std::make_pair(rank, range.allocId);
    auto it = mappings_.find(key);
    if (it == mappings_.end()) {
      if (mappings_.size() >= kMaxMappings) {
        for (auto& [k, m] : mappings_) munmap(m.base, m.bytes);
        mappings_.clear();
      }
      const std::string path =
          "/proc/" + std::to_string(range.pid) + "/fd/" + std::to_string(range.fd);
      int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0)
        return setError(ncclSystemError, "cannot open rank %d's shared buffer %s: %s", rank,
                        path.c_str(), strerror(errno));
      void* p = mmap(nullptr, range.allocBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      close(fd);
      if (p == MAP_FAILED)
        return setError(ncclSystemError, "cannot map rank %d's shared buffer: %s", rank,
                        strerror(errno));
      it = mappings_.emplace(key, Mapping{static_cast<char*>(p), range.allocBytes}).first;
    }
    *out = it->second.base + range.offset;
    return ncclSuccess;
  }

  ShmSegment seg_;
  int rank_, n_;
  Slot* slots_;
  const char* mySend_ = nullptr;
  char* myRecv_ = nullptr;
  std::map<std::pair<int, uint64_t>, Mapping> mappings_;
};

}  // namespace

ncclResult_t createShmBufferExchange(Bootstrap& bootstrap, std::unique_ptr<BufferExchange>* out) {
  const size_t nSlots = static_cast<size_t>(kTables * bootstrap.nranks());
  const size_t bytes = sizeof(Slot) * nSlots;
  // Rank 0 creates the segment; its name (which names rank 0's process) reaches the others
  // through the allgather, which also waits until it exists.
  struct Name {
    char text[64];
  };
  std::vector<Name> names(bootstrap.nranks(), Name{});
  ShmSegment seg;
  if (bootstrap.rank() == 0) {
    char what[32];
    snprintf(what, sizeof(what), "%016" PRIx64 "-xchg", bootstrap.jobHash());
    TCCL_CHECK(ShmSegment::create(ownedShmName(what), bytes, -1, &seg));
    for (size_t i = 0; i < nSlots; ++i) new (static_cast<Slot*>(seg.data()) + i) Slot{};
    snprintf(names[0].text, sizeof(names[0].text), "%s", seg.name().c_str());
  }
  TCCL_CHECK(bootstrap.allGather(names.data(), sizeof(Name)));
  names[0].text[sizeof(names[0].text) - 1] = '\0';
  if (bootstrap.rank() != 0) TCCL_CHECK(ShmSegment::open(names[0].text, bytes, &seg));
  TCCL_CHECK(bootstrap.barrier());
  seg.unlink();
  *out = std::make_unique<ShmBufferExchange>(std::move(seg), bootstrap.rank(), bootstrap.nranks());
  return ncclSuccess;
}

}  // namespace tccl
