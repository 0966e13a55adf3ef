#include "base/bootstrap.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/bootstrap_root.h"
#include "base/bootstrap_tags.h"
#include "base/env.h"
#include "base/error.h"
#include "base/job_secret.h"
#include "base/log.h"

namespace tccl {
namespace {
constexpr uint64_t kIdMagic = 0x54434346554e4944ull;  // "TCCFUNID"

bool isLoopback(const SocketAddress& a) {
  const std::string s = a.toString();
  return s.rfind("127.", 0) == 0 || s.rfind("[::1]", 0) == 0;
}

// Where rank 0 serves NCCL_COMM_ID: the address given, as NCCL does, when it belongs to this
// machine; otherwise (a name that resolves elsewhere, a NAT address) that port on the
// interface NCCL_SOCKET_IFNAME selects.
SocketAddress rootBindAddress(const SocketAddress& given) {
  if (isLocalAddress(given)) return given;
  for (const Interface& itf : findInterfaces()) {
    if (itf.address.storage.ss_family != given.storage.ss_family) continue;
    SocketAddress a = itf.address;
    a.setPort(given.port());
    INFO(kLogBootstrap, "NCCL_COMM_ID=%s is not an address of this machine: the root listens on %s",
         given.toString().c_str(), a.toString().c_str());
    return a;
  }
  return given;  // listenOn will say why it cannot bind
}

// Says hello to the root and reads its answer: the address table, or why the job cannot form.
// A root that closes the connection without a word dropped us among strangers (it holds only
// so many connections without a header at once): say hello again.
ncclResult_t joinRendezvous(const SocketAddress& root, const BootstrapHeader& hello,
                            const PackedAddress& mine, Deadline deadline, double timeoutSec,
                            const MessageReader::Check& check, MessageReader* reply) {
  const int rank = hello.rank;
  while (true) {
    Fd conn;
    if (connectTo(root, deadline, &conn) != ncclSuccess)
      return setError(ncclSystemError,
                      "rank %d: cannot reach the bootstrap root at %s within %.0fs "
                      "(TCCL_BOOTSTRAP_TIMEOUT): %s",
                      rank, root.toString().c_str(), timeoutSec, lastThreadError().c_str());
    *reply = MessageReader(check);
    char buf[1 << 16];
    bool lost = sendAll(conn, &hello, sizeof(hello), deadline) != ncclSuccess ||
                sendAll(conn, &mine, sizeof(mine), deadline) != ncclSuccess;
    while (!lost && reply->wanted()) {
      const size_t want = std::min(reply->wanted(), sizeof(buf));
      if (recvAll(conn, buf, want, deadline) != ncclSuccess) {
        if (Clock::now() >= deadline || reply->started())
          return setError(ncclSystemError,
                          "rank %d: the bootstrap root did not answer within %.0fs "
                          "(TCCL_BOOTSTRAP_TIMEOUT): are all %d ranks started, with the same "
                          "ncclUniqueId (and TCCL_JOB_SECRET)?",
                          rank, timeoutSec, hello.nranks);
        lost = true;
        break;
      }
      reply->consume(buf, want);
    }
    if (!lost) break;
    if (Clock::now() >= deadline)
      return setError(ncclSystemError,
                      "rank %d: the bootstrap root at %s kept closing the "
                      "connection until the timeout (%.0fs)",
                      rank, root.toString().c_str(), timeoutSec);
    INFO(kLogBootstrap, "rank %d: the bootstrap root closed our connection: trying again", rank);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (const char* why = reply->rejected())
    return setError(ncclSystemError, "rank %d: invalid reply from the bootstrap root: %s", rank,
                    why);
  if (reply->header().type == BootstrapMsg::kError)
    return setError(ncclInvalidUsage, "rank %d: the bootstrap root refused the job: %.*s", rank,
                    static_cast<int>(reply->payload().size()), reply->payload().data());
  return ncclSuccess;
}

}  // namespace

ncclResult_t createUniqueId(ncclUniqueId* id, double timeoutSec, bool honourCommIdEnv) {
  UniqueIdContent content{};
  content.magic = kIdMagic;
  std::string commId = honourCommIdEnv ? envString("NCCL_COMM_ID") : "";
  if (!commId.empty()) {
    content.flags = kIdFlagRankZeroRoot;
    SocketAddress addr;
    TCCL_CHECK(parseSocketAddress(commId, &addr));
    content.root = packAddress(addr);
    // Every rank computes the same secret from what all of them see.
    std::string mixed;
    content.secret = commIdJobSecret(commId, &mixed);
    INFO(kLogBootstrap, "NCCL_COMM_ID=%s: the job secret mixes in %s%s", commId.c_str(),
         mixed.empty() ? "nothing else" : mixed.c_str(),
         mixed.find("TCCL_JOB_SECRET") == std::string::npos
             ? " (no TCCL_JOB_SECRET: anyone who can reach that port can join)"
             : "");
  } else {
    auto itfs = findInterfaces();
    if (itfs.empty())
      return setError(ncclSystemError,
                      "no usable network interface for the bootstrap (NCCL_SOCKET_IFNAME='%s')",
                      envString("NCCL_SOCKET_IFNAME").c_str());
    SocketAddress addr = itfs.front().address;
    addr.setPort(0);
    content.secret = randomJobSecret();
    TCCL_CHECK(startBootstrapRoot(&addr, content.secret, timeoutSec));
    content.root = packAddress(addr);
  }
  memset(id, 0, sizeof(*id));
  memcpy(id->internal, &content, sizeof(content));
  return ncclSuccess;
}

ncclResult_t decodeUniqueId(const ncclUniqueId& id, UniqueIdContent* out) {
  memcpy(out, id.internal, sizeof(*out));
  if (out->magic != kIdMagic)
    return setError(ncclInvalidArgument,
                    "invalid ncclUniqueId (bad magic): was it filled by ncclGetUniqueId?");
  return ncclSuccess;
}

ncclResult_t Bootstrap::create(const ncclUniqueId& id, int rank, int nranks, double timeoutSec,
                               std::unique_ptr<Bootstrap>* out) {
  UniqueIdContent content;
  TCCL_CHECK(decodeUniqueId(id, &content));
  std::unique_ptr<Bootstrap> bs(new Bootstrap());
  bs->rank_ = rank;
  bs->nranks_ = nranks;
  bs->timeoutSec_ = timeoutSec;
  bs->helloSecret_ = content.secret;
  bs->sendSeq_.assign(nranks, 0);
  bs->recvSeq_.assign(nranks, 0);
  SocketAddress root = unpackAddress(content.root);

  if (rank == 0 && (content.flags & kIdFlagRankZeroRoot)) {
    SocketAddress bindAddr = rootBindAddress(root);
    TCCL_CHECK(
        startBootstrapRoot(&bindAddr, content.secret, timeoutSec, /*lingerForLateClaims=*/true));
  }

  // Our own listener, on the interface that reaches the root.
  auto itfs = findInterfaces();
  SocketAddress mine;
  const bool isLoopbackRoot = isLoopback(root);
  for (const auto& itf : itfs) {
    if (itf.address.storage.ss_family != root.storage.ss_family) continue;
    const bool itfLoop = isLoopback(itf.address);
    if (itfLoop == isLoopbackRoot || mine.storage.ss_family == 0) {
      mine = itf.address;
      if (itfLoop == isLoopbackRoot) break;
    }
  }
  if (mine.storage.ss_family == 0) mine = root;
  mine.setPort(0);
  Fd listener;
  TCCL_CHECK(listenOn(&mine, &listener));
  bs->listenAddress_ = mine;
  Bootstrap* self = bs.get();
  bs->inbox_ = std::make_unique<BootstrapInbox>(
      std::move(listener),
      [self](const BootstrapHeader& h) { return checkP2p(h, self->jobKey_, self->nranks_); },
      "rank " + std::to_string(rank), timeoutSec);

  BootstrapHeader hello;
  hello.type = BootstrapMsg::kHello;
  hello.secret = content.secret;
  hello.rank = rank;
  hello.nranks = nranks;
  hello.bytes = sizeof(PackedAddress);
  auto checkReply = [&](const BootstrapHeader& h) {
    return checkRootReply(h, content.secret, nranks);
  };
  MessageReader reply(checkReply);
  TCCL_CHECK(joinRendezvous(root, hello, packAddress(mine), deadlineAfter(timeoutSec), timeoutSec,
                            checkReply, &reply));
  const std::vector<char>& table = reply.payload();
  TablePayload key;
  memcpy(&key, table.data(), sizeof(key));
  bs->jobKey_ = key.jobKey;
  bs->jobHash_ = key.jobKey.word[0] ^ (key.jobKey.word[1] * 0x9e3779b97f4a7c15ull);
  bs->peers_.resize(nranks);
  memcpy(bs->peers_.data(), table.data() + sizeof(key), table.size() - sizeof(key));
  INFO(kLogBootstrap, "rank %d/%d bootstrap listening on %s", rank, nranks,
       mine.toString().c_str());
  *out = std::move(bs);
  return ncclSuccess;
}

ncclResult_t Bootstrap::pump(Deadline until, pollfd* extra) {
  std::vector<BootstrapInbox::Message> got;
  TCCL_CHECK(inbox_->pump(until, extra, &got));
  for (BootstrapInbox::Message& m : got) {
    const int peer = m.header.rank;
    const uint32_t seq = m.header.seq;
    // Each message has its own connection: put them back into the order they were sent.
    if (seq < recvSeq_[peer] ||
        !early_
             .emplace(std::make_pair(peer, seq), Message{peer, m.header.tag, std::move(m.payload)})
             .second) {
      WARN("rank %d: dropped a repeated bootstrap message from rank %d (number %u)", rank_, peer,
           seq);
      continue;
    }
    for (auto it = early_.find({peer, recvSeq_[peer]}); it != early_.end();
         it = early_.find({peer, recvSeq_[peer]})) {
      unexpected_.push_back(std::move(it->second));
      early_.erase(it);
      ++recvSeq_[peer];
    }
  }
  return ncclSuccess;
}

ncclResult_t Bootstrap::send(int peer, uint32_t tag, const void* data, size_t bytes) {
  if (peer < 0 || peer >= nranks_)
    return setError(ncclInternalError, "bootstrap send to rank %d", peer);
  if (bytes > kMaxBootstrapPayload)
    return setError(ncclInternalError, "bootstrap message of %zu bytes", bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  const Deadline deadline = deadlineAfter(timeoutSec_);
  BootstrapHeader hdr;
  hdr.type = BootstrapMsg::kP2p;
  hdr.secret = jobKey_;
  hdr.rank = rank_;
  hdr.nranks = nranks_;
  hdr.tag = tag;
  hdr.seq = sendSeq_[peer];
  hdr.bytes = bytes;
  std::vector<char> wire(sizeof(hdr) + bytes);
  memcpy(wire.data(), &hdr, sizeof(hdr));
  if (bytes) memcpy(wire.data() + sizeof(hdr), data, bytes);
  const SocketAddress addr = unpackAddress(peers_[peer]);

  Fd conn;
  bool connected = false;
  size_t sent = 0;
  int delayMs = 1;
  Deadline retryAt = Clock::now();
  int lastErr = 0;
  while (sent < wire.size()) {
    if (Clock::now() >= deadline)
      return setError(ncclRemoteError,
                      "rank %d: could not send a bootstrap message to rank %d at %s within %.0fs "
                      "(TCCL_BOOTSTRAP_TIMEOUT)%s%s",
                      rank_, peer, addr.toString().c_str(), timeoutSec_, lastErr ? ": " : "",
                      lastErr ? strerror(lastErr) : "");
    if (!conn && Clock::now() >= retryAt) {
      TCCL_CHECK(startConnect(addr, &conn));
      connected = false;
    }
    pollfd pfd{conn.get(), POLLOUT, 0};
    TCCL_CHECK(pump(conn ? deadline : std::min(deadline, retryAt), conn ? &pfd : nullptr));
    if (!conn || !pfd.revents) continue;
    if (!connected) {
      lastErr = connectError(conn);
      if (lastErr) {
        if (!connectRetryable(lastErr))
          return setError(ncclRemoteError, "rank %d: cannot connect to rank %d at %s: %s", rank_,
                          peer, addr.toString().c_str(), strerror(lastErr));
        conn = Fd();
        retryAt = deadlineAfter(delayMs / 1000.0);
        delayMs = std::min(delayMs * 2, 100);
        continue;
      }
      connected = true;
    }
    ssize_t n = ::send(conn.get(), wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return setError(ncclRemoteError, "rank %d: bootstrap message to rank %d: %s", rank_, peer,
                      strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  ++sendSeq_[peer];
  return ncclSuccess;
}

ncclResult_t Bootstrap::recv(int peer, uint32_t tag, void* data, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const Deadline deadline = deadlineAfter(timeoutSec_);
  while (true) {
    for (auto it = unexpected_.begin(); it != unexpected_.end(); ++it) {
      if (it->peer != peer || it->tag != tag) continue;
      Message m = std::move(*it);
      unexpected_.erase(it);
      if (m.data.size() != bytes)
        return setError(
            ncclInternalError,
            "rank %d: bootstrap message from rank %d (tag %#x) has %zu bytes, expected %zu", rank_,
            peer, tag, m.data.size(), bytes);
      if (bytes) memcpy(data, m.data.data(), bytes);
      return ncclSuccess;
    }
    if (Clock::now() >= deadline) {
      const std::string notes = bootstrapRootNotes(helloSecret_);
      return setError(ncclRemoteError,
                      "rank %d: bootstrap message from rank %d (tag %#x) not received within "
                      "%.0fs (TCCL_BOOTSTRAP_TIMEOUT)%s%s",
                      rank_, peer, tag, timeoutSec_,
                      notes.empty() ? "" : "; the root saw: ", notes.c_str());
    }
    TCCL_CHECK(pump(deadline, nullptr));
  }
}

ncclResult_t Bootstrap::allGather(void* data, size_t bytesPerRank) {
  char* base = static_cast<char*>(data);
  int next = (rank_ + 1) % nranks_, prev = (rank_ - 1 + nranks_) % nranks_;
  // Ring: at step s, forward the slot that came from rank (rank - s).
  for (int s = 0; s < nranks_ - 1; ++s) {
    int sendSlot = (rank_ - s + nranks_) % nranks_;
    int recvSlot = (rank_ - s - 1 + nranks_) % nranks_;
    uint32_t tag = bootstrap_tags::kCollective | (collTag_++ & 0x7fffffff);
    TCCL_CHECK(send(next, tag, base + sendSlot * bytesPerRank, bytesPerRank));
    TCCL_CHECK(recv(prev, tag, base + recvSlot * bytesPerRank, bytesPerRank));
  }
  return ncclSuccess;
}

ncclResult_t Bootstrap::barrier() {
  std::vector<char> dummy(nranks_);
  return allGather(dummy.data(), 1);
}

}  // namespace tccl
