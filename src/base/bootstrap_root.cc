#include "base/bootstrap_root.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/bootstrap_inbox.h"
#include "base/error.h"
#include "base/job_secret.h"
#include "base/log.h"

namespace tccl {
namespace {

// After the job failed, hellos still get the error for this long (ranks that come late learn
// why instead of waiting for their timeout), unless every rank was told already.
constexpr double kFailureGraceSec = 10;

class RootServer {
 public:
  RootServer(Fd listener, const SocketAddress& addr, const JobSecret& secret, double timeoutSec,
             bool linger)
      : address_(addr),
        secret_(secret),
        timeoutSec_(timeoutSec),
        linger_(linger),
        owner_(getpid()) {
    thread_ = std::thread([this, l = std::move(listener)]() mutable { serve(std::move(l)); });
  }
  ~RootServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool finished() const { return finished_; }
  // The table went out: all that is left is answering late claims.
  bool rendezvousDone() const { return rendezvousDone_; }
  pid_t owner() const { return owner_; }
  const SocketAddress& address() const { return address_; }

 private:
  struct Joined {
    Fd conn;
    PackedAddress address;
    std::string from;
  };

  void reply(const Fd& conn, BootstrapMsg type, int nranks, const void* a, size_t aBytes,
             const void* b, size_t bBytes) const {
    BootstrapHeader hdr;
    hdr.type = type;
    hdr.secret = secret_;
    hdr.nranks = nranks;
    hdr.bytes = aBytes + bBytes;
    Deadline d = deadlineAfter(std::min(timeoutSec_, 10.0));
    if (sendAll(conn, &hdr, sizeof(hdr), d) != ncclSuccess ||
        (aBytes && sendAll(conn, a, aBytes, d) != ncclSuccess) ||
        (bBytes && sendAll(conn, b, bBytes, d) != ncclSuccess))
      INFO(kLogBootstrap, "bootstrap root: could not answer %s", peerName(conn).c_str());
  }
  void replyError(const Fd& conn, int nranks, const std::string& why) const {
    const std::string text = why.substr(0, kMaxErrorText);
    reply(conn, BootstrapMsg::kError, nranks, text.data(), text.size(), nullptr, 0);
  }

  static std::string describe(const BootstrapInbox::Message& m, const PackedAddress& listening) {
    return m.from + " (listening on " + unpackAddress(listening).toString() + ")";
  }

  void serve(Fd listener) {
    BootstrapInbox inbox(
        std::move(listener), [this](const BootstrapHeader& h) { return checkHello(h, secret_); },
        "bootstrap root", timeoutSec_);
    Deadline deadline = deadlineAfter(timeoutSec_);
    std::vector<Joined> ranks;
    std::vector<bool> told;  // after a failure: ranks that got the error
    int nranks = -1, arrived = 0, toldCount = 0;
    std::string failure;
    std::vector<BootstrapInbox::Message> got;
    while (!stop_ && (nranks < 0 || arrived < nranks)) {
      if (Clock::now() >= deadline) {
        if (failure.empty())
          WARN(
              "bootstrap root: timed out after %.0fs with %d of %d ranks "
              "(TCCL_BOOTSTRAP_TIMEOUT)",
              timeoutSec_, arrived, nranks);
        break;
      }
      got.clear();
      if (inbox.pump(std::min(deadline, deadlineAfter(0.2)), nullptr, &got) != ncclSuccess) break;
      for (BootstrapInbox::Message& m : got) {
        const BootstrapHeader& h = m.header;
        PackedAddress addr;
        memcpy(&addr, m.payload.data(), sizeof(addr));
        if (!failure.empty()) {
          replyError(m.conn, h.nranks, failure);
          if (h.rank < static_cast<int>(told.size()) && !told[h.rank]) {
            told[h.rank] = true;
            ++toldCount;
          }
          continue;
        }
        if (nranks < 0) {
          nranks = h.nranks;
          ranks.resize(nranks);
        }
        if (h.nranks != nranks) {
          const std::string why = "rank " + std::to_string(h.rank) + " (" + m.from +
                                  ") says nranks=" + std::to_string(h.nranks) +
                                  ", the ranks before it said " + std::to_string(nranks);
          WARN("bootstrap root: %s; rejected", why.c_str());
          replyError(m.conn, h.nranks, why);
          continue;
        }
        Joined& slot = ranks[h.rank];
        if (slot.conn) {
          // Never replace the first claimant silently: one of the two is not who it says.
          failure = "rank " + std::to_string(h.rank) + " was claimed twice: first by " + slot.from +
                    " (listening on " + unpackAddress(slot.address).toString() + "), then by " +
                    describe(m, addr) +
                    "; the job cannot form (a stale or foreign process with the same "
                    "NCCL_COMM_ID and secret?)";
          WARN("bootstrap root: %s", failure.c_str());
          told.assign(nranks, false);
          replyError(m.conn, nranks, failure);
          for (int r = 0; r < nranks; ++r)
            if (ranks[r].conn) {
              replyError(ranks[r].conn, nranks, failure);
              told[r] = true;
              ++toldCount;
            }
          ranks.clear();
          deadline = std::min(deadline, deadlineAfter(kFailureGraceSec));
          continue;
        }
        slot = Joined{std::move(m.conn), addr, m.from};
        ++arrived;
      }
      if (!failure.empty() && toldCount >= nranks) break;
    }
    if (failure.empty() && nranks > 0 && arrived == nranks) {
      std::vector<PackedAddress> table(nranks);
      for (int r = 0; r < nranks; ++r) table[r] = ranks[r].address;
      const TablePayload key{randomJobSecret()};
      for (int r = 0; r < nranks; ++r)
        reply(ranks[r].conn, BootstrapMsg::kTable, nranks, &key, sizeof(key), table.data(),
              table.size() * sizeof(PackedAddress));
      for (Joined& j : ranks) j.conn = Fd();
      rendezvousDone_ = true;
      if (linger_) answerLateClaims(inbox, ranks, deadline);
    }
    finished_ = true;
  }

  // With NCCL_COMM_ID anyone who can compute the secret may have joined first: until the
  // timeout, whoever claims a rank afterwards learns who holds it instead of timing out.
  void answerLateClaims(BootstrapInbox& inbox, const std::vector<Joined>& ranks,
                        Deadline deadline) {
    std::vector<BootstrapInbox::Message> got;
    while (!stop_ && Clock::now() < deadline) {
      got.clear();
      if (inbox.pump(std::min(deadline, deadlineAfter(0.2)), nullptr, &got) != ncclSuccess) return;
      for (BootstrapInbox::Message& m : got) {
        PackedAddress addr;
        memcpy(&addr, m.payload.data(), sizeof(addr));
        const int r = m.header.rank;
        std::string why =
            r < static_cast<int>(ranks.size())
                ? "rank " + std::to_string(r) + " was claimed twice: first by " + ranks[r].from +
                      " (listening on " + unpackAddress(ranks[r].address).toString() +
                      "), which joined the job, then by " + describe(m, addr)
                : "the job of this NCCL_COMM_ID has " + std::to_string(ranks.size()) +
                      " ranks and is formed already; " + describe(m, addr) + " claimed rank " +
                      std::to_string(r) + " of " + std::to_string(m.header.nranks);
        WARN("bootstrap root: %s", why.c_str());
        replyError(m.conn, m.header.nranks, why);
        std::lock_guard<std::mutex> lock(notesMutex_);
        if (notes_.empty()) notes_ = why;
      }
    }
  }

 public:
  const JobSecret& secret() const { return secret_; }
  // What went wrong after the table went out (a late claim), for the errors of this process.
  std::string notes() {
    std::lock_guard<std::mutex> lock(notesMutex_);
    return notes_;
  }

 private:
  SocketAddress address_;
  JobSecret secret_;
  double timeoutSec_;
  bool linger_;
  pid_t owner_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> rendezvousDone_{false};
  std::mutex notesMutex_;
  std::string notes_;
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

std::string bootstrapRootNotes(const JobSecret& secret) {
  auto& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  for (auto& s : reg.servers)
    if (s->owner() == getpid() && s->secret() == secret) return s->notes();
  return "";
}

ncclResult_t startBootstrapRoot(SocketAddress* addr, const JobSecret& secret, double timeoutSec,
                                bool lingerForLateClaims) {
  auto& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  // A lingering root of this process on the same port steps aside for the new job.
  std::erase_if(reg.servers, [&](const auto& s) {
    return s->owner() == getpid() &&
           (s->finished() || (s->rendezvousDone() && s->address().port() == addr->port()));
  });
  Fd listener;
  TCCL_CHECK(listenOn(addr, &listener));
  reg.servers.push_back(std::make_unique<RootServer>(std::move(listener), *addr, secret, timeoutSec,
                                                     lingerForLateClaims));
  INFO(kLogBootstrap, "bootstrap root listening on %s", addr->toString().c_str());
  return ncclSuccess;
}

}  // namespace tccl
