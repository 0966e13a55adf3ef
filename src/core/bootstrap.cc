#include "core/bootstrap.h"

#include <cstring>
#include <random>

#include "core/bootstrap_root.h"
#include "core/env.h"
#include "core/error.h"
#include "core/log.h"

namespace tccl {
namespace {
constexpr uint64_t kIdMagic = 0x54434346554e4944ull;  // "TCCFUNID"
// Tags at and above this are reserved for collectives of the bootstrap itself.
constexpr uint32_t kCollTagBase = 0x80000000u;

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
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
    // Every rank computes the same id from the variable alone.
    content.nonce = fnv1a(commId.data(), commId.size());
  } else {
    auto itfs = findInterfaces();
    if (itfs.empty())
      return setError(ncclSystemError,
                      "no usable network interface for the bootstrap (NCCL_SOCKET_IFNAME='%s')",
                      envString("NCCL_SOCKET_IFNAME").c_str());
    SocketAddress addr = itfs.front().address;
    addr.setPort(0);
    std::random_device rd;
    content.nonce = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    TCCL_CHECK(startBootstrapRoot(&addr, content.nonce, timeoutSec));
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
  bs->nonce_ = content.nonce;
  bs->timeoutSec_ = timeoutSec;
  SocketAddress root = unpackAddress(content.root);

  if (rank == 0 && (content.flags & kIdFlagRankZeroRoot)) {
    // Bind the port of NCCL_COMM_ID on any address: the name may not be local as written.
    SocketAddress any;
    any.storage.ss_family = root.storage.ss_family;
    any.setPort(root.port());
    TCCL_CHECK(startBootstrapRoot(&any, content.nonce, timeoutSec));
  }

  // Our own listener, on the interface that reaches the root.
  auto itfs = findInterfaces();
  SocketAddress mine;
  bool isLoopbackRoot =
      root.toString().rfind("127.", 0) == 0 || root.toString().rfind("[::1]", 0) == 0;
  for (const auto& itf : itfs) {
    if (itf.address.storage.ss_family != root.storage.ss_family) continue;
    bool itfLoop = itf.address.toString().rfind("127.", 0) == 0 ||
                   itf.address.toString().rfind("[::1]", 0) == 0;
    if (itfLoop == isLoopbackRoot || mine.storage.ss_family == 0) {
      mine = itf.address;
      if (itfLoop == isLoopbackRoot) break;
    }
  }
  if (mine.storage.ss_family == 0) mine = root;
  mine.setPort(0);
  TCCL_CHECK(listenOn(&mine, &bs->listener_));

  Deadline deadline = deadlineAfter(timeoutSec);
  Fd conn;
  ncclResult_t res = connectTo(root, deadline, &conn);
  if (res != ncclSuccess)
    return setError(ncclSystemError,
                    "rank %d: cannot reach the bootstrap root at %s within %.0fs "
                    "(TCCL_BOOTSTRAP_TIMEOUT): %s",
                    rank, root.toString().c_str(), timeoutSec, lastThreadError().c_str());
  BootstrapHeader hello;
  hello.type = BootstrapMsg::kHello;
  hello.nonce = content.nonce;
  hello.rank = rank;
  hello.nranks = nranks;
  hello.bytes = sizeof(PackedAddress);
  PackedAddress myAddr = packAddress(mine);
  TCCL_CHECK(sendAll(conn, &hello, sizeof(hello), deadline));
  TCCL_CHECK(sendAll(conn, &myAddr, sizeof(myAddr), deadline));
  BootstrapHeader reply;
  res = recvAll(conn, &reply, sizeof(reply), deadline);
  if (res != ncclSuccess)
    return setError(
        ncclSystemError,
        "rank %d: the bootstrap root did not answer within %.0fs (TCCL_BOOTSTRAP_TIMEOUT): "
        "are all %d ranks started, with the same ncclUniqueId?",
        rank, timeoutSec, nranks);
  if (reply.magic != kBootstrapMagic || reply.type != BootstrapMsg::kTable ||
      reply.nonce != content.nonce || reply.nranks != nranks ||
      reply.bytes != static_cast<uint64_t>(nranks) * sizeof(PackedAddress))
    return setError(ncclSystemError, "rank %d: invalid reply from the bootstrap root", rank);
  bs->peers_.resize(nranks);
  TCCL_CHECK(recvAll(conn, bs->peers_.data(), reply.bytes, deadline));
  bs->jobHash_ = fnv1a(&reply.tag, sizeof(reply.tag), content.nonce);
  INFO(kLogBootstrap, "rank %d/%d bootstrap listening on %s", rank, nranks,
       mine.toString().c_str());
  *out = std::move(bs);
  return ncclSuccess;
}

ncclResult_t Bootstrap::send(int peer, uint32_t tag, const void* data, size_t bytes) {
  if (peer < 0 || peer >= nranks_)
    return setError(ncclInternalError, "bootstrap send to rank %d", peer);
  Deadline deadline = deadlineAfter(timeoutSec_);
  Fd conn;
  TCCL_CHECK(connectTo(unpackAddress(peers_[peer]), deadline, &conn));
  BootstrapHeader hdr;
  hdr.type = BootstrapMsg::kP2p;
  hdr.nonce = nonce_;
  hdr.rank = rank_;
  hdr.nranks = nranks_;
  hdr.tag = tag;
  hdr.bytes = bytes;
  TCCL_CHECK(sendAll(conn, &hdr, sizeof(hdr), deadline));
  if (bytes) TCCL_CHECK(sendAll(conn, data, bytes, deadline));
  return ncclSuccess;
}

ncclResult_t Bootstrap::acceptOne(Message* out) {
  Deadline deadline = deadlineAfter(timeoutSec_);
  while (true) {
    Fd conn;
    ncclResult_t res = acceptUntil(listener_, deadline, &conn);
    if (res == ncclInProgress)
      return setError(ncclRemoteError, "rank %d: bootstrap message not received within %.0fs",
                      rank_, timeoutSec_);
    TCCL_CHECK(res);
    BootstrapHeader hdr;
    if (recvAll(conn, &hdr, sizeof(hdr), deadlineAfter(5)) != ncclSuccess) continue;
    if (hdr.magic != kBootstrapMagic || hdr.type != BootstrapMsg::kP2p || hdr.nonce != nonce_ ||
        hdr.nranks != nranks_ || hdr.rank < 0 || hdr.rank >= nranks_ ||
        hdr.bytes > kMaxBootstrapPayload) {
      WARN("rank %d: rejected an invalid bootstrap connection (magic %#x, %llu bytes)", rank_,
           hdr.magic, static_cast<unsigned long long>(hdr.bytes));
      continue;
    }
    out->peer = hdr.rank;
    out->tag = hdr.tag;
    out->data.resize(hdr.bytes);
    if (hdr.bytes && recvAll(conn, out->data.data(), hdr.bytes, deadline) != ncclSuccess) {
      WARN("rank %d: truncated bootstrap message from rank %d", rank_, hdr.rank);
      continue;
    }
    return ncclSuccess;
  }
}

ncclResult_t Bootstrap::recv(int peer, uint32_t tag, void* data, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto deliver = [&](const Message& m) -> ncclResult_t {
    if (m.data.size() != bytes)
      return setError(
          ncclInternalError,
          "rank %d: bootstrap message from rank %d (tag %#x) has %zu bytes, expected %zu", rank_,
          peer, tag, m.data.size(), bytes);
    if (bytes) memcpy(data, m.data.data(), bytes);
    return ncclSuccess;
  };
  for (auto it = unexpected_.begin(); it != unexpected_.end(); ++it) {
    if (it->peer == peer && it->tag == tag) {
      ncclResult_t res = deliver(*it);
      unexpected_.erase(it);
      return res;
    }
  }
  while (true) {
    Message m;
    TCCL_CHECK(acceptOne(&m));
    if (m.peer == peer && m.tag == tag) return deliver(m);
    unexpected_.push_back(std::move(m));
  }
}

ncclResult_t Bootstrap::allGather(void* data, size_t bytesPerRank) {
  char* base = static_cast<char*>(data);
  int next = (rank_ + 1) % nranks_, prev = (rank_ - 1 + nranks_) % nranks_;
  // Ring: at step s, forward the slot that came from rank (rank - s).
  for (int s = 0; s < nranks_ - 1; ++s) {
    int sendSlot = (rank_ - s + nranks_) % nranks_;
    int recvSlot = (rank_ - s - 1 + nranks_) % nranks_;
    uint32_t tag = kCollTagBase | (collTag_++ & 0x7fffffff);
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
