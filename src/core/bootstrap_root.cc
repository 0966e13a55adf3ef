#include "core/bootstrap_root.h"

#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/log.h"

namespace tccl {
namespace {

class RootServer {
 public:
  RootServer(Fd listener, uint64_t nonce, double timeoutSec)
      : listener_(std::move(listener)), nonce_(nonce), timeoutSec_(timeoutSec), owner_(getpid()) {
    thread_ = std::thread([this] { serve(); });
  }
  ~RootServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool finished() const { return finished_; }
  pid_t owner() const { return owner_; }

 private:
  struct Pending {
    Fd fd;
    PackedAddress address;
  };

  void serve() {
    Deadline deadline = deadlineAfter(timeoutSec_);
    std::vector<Pending> ranks;
    int nranks = -1, arrived = 0;
    while (!stop_ && (nranks < 0 || arrived < nranks)) {
      Fd conn;
      Deadline slice = std::min(deadline, deadlineAfter(0.2));
      ncclResult_t res = acceptUntil(listener_, slice, &conn);
      if (res == ncclInProgress) {
        if (Clock::now() >= deadline) {
          WARN("bootstrap root: timed out after %.0fs with %d of %d ranks (TCCL_BOOTSTRAP_TIMEOUT)",
               timeoutSec_, arrived, nranks);
          break;
        }
        continue;
      }
      if (res != ncclSuccess) break;
      BootstrapHeader hdr;
      PackedAddress addr;
      // A stray or malicious client gets a short read deadline and is dropped on any mismatch.
      if (recvAll(conn, &hdr, sizeof(hdr), deadlineAfter(2)) != ncclSuccess) continue;
      if (hdr.magic != kBootstrapMagic || hdr.type != BootstrapMsg::kHello || hdr.nonce != nonce_ ||
          hdr.bytes != sizeof(PackedAddress) || hdr.nranks <= 0 || hdr.nranks > kMaxRanks ||
          hdr.rank < 0 || hdr.rank >= hdr.nranks) {
        WARN("bootstrap root: rejected a connection with an invalid hello (magic %#x, type %u)",
             hdr.magic, static_cast<unsigned>(hdr.type));
        continue;
      }
      if (nranks < 0) {
        nranks = hdr.nranks;
        ranks.resize(nranks);
      }
      if (hdr.nranks != nranks) {
        WARN("bootstrap root: rank %d says nranks=%d, others said %d; rejected", hdr.rank,
             hdr.nranks, nranks);
        continue;
      }
      if (recvAll(conn, &addr, sizeof(addr), deadlineAfter(2)) != ncclSuccess) continue;
      if (ranks[hdr.rank].fd) {
        WARN("bootstrap root: rank %d connected twice; the second one is rejected", hdr.rank);
        continue;
      }
      ranks[hdr.rank] = Pending{std::move(conn), addr};
      ++arrived;
    }
    if (nranks > 0 && arrived == nranks) {
      std::vector<PackedAddress> table(nranks);
      for (int r = 0; r < nranks; ++r) table[r] = ranks[r].address;
      uint64_t salt = std::random_device{}();
      for (int r = 0; r < nranks; ++r) {
        BootstrapHeader hdr;
        hdr.type = BootstrapMsg::kTable;
        hdr.nonce = nonce_;
        hdr.nranks = nranks;
        hdr.tag = static_cast<uint32_t>(salt);
        hdr.bytes = table.size() * sizeof(PackedAddress);
        Deadline d = deadlineAfter(timeoutSec_);
        if (sendAll(ranks[r].fd, &hdr, sizeof(hdr), d) != ncclSuccess ||
            sendAll(ranks[r].fd, table.data(), hdr.bytes, d) != ncclSuccess)
          WARN("bootstrap root: could not send the address table to rank %d", r);
      }
    }
    finished_ = true;
  }

  Fd listener_;
  uint64_t nonce_;
  double timeoutSec_;
  pid_t owner_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// Servers of this process. A forked child inherits the list but not the threads, so at exit
// it must not join them: it leaks them instead.
struct RootRegistry {
  std::mutex mutex;
  std::vector<std::unique_ptr<RootServer>> servers;
  ~RootRegistry() {
    for (auto& s : servers)
      if (s->owner() != getpid()) (void)s.release();
  }
};
RootRegistry& registry() {
  static RootRegistry r;
  return r;
}

}  // namespace

ncclResult_t startBootstrapRoot(SocketAddress* addr, uint64_t nonce, double timeoutSec) {
  Fd listener;
  TCCL_CHECK(listenOn(addr, &listener));
  auto& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  std::erase_if(reg.servers, [](const auto& s) { return s->owner() == getpid() && s->finished(); });
  reg.servers.push_back(std::make_unique<RootServer>(std::move(listener), nonce, timeoutSec));
  INFO(kLogBootstrap, "bootstrap root listening on %s", addr->toString().c_str());
  return ncclSuccess;
}

}  // namespace tccl
