#include "base/bootstrap_wire.h"

#include <algorithm>
#include <cstring>

namespace tccl {

PackedAddress packAddress(const SocketAddress& a) {
  PackedAddress p;
  p.family = a.storage.ss_family;
  p.port = static_cast<uint16_t>(a.port());
  if (a.storage.ss_family == AF_INET)
    memcpy(p.addr, &reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr, 4);
  else if (a.storage.ss_family == AF_INET6)
    memcpy(p.addr, &reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr, 16);
  return p;
}

SocketAddress unpackAddress(const PackedAddress& p) {
  SocketAddress a;
  if (p.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, p.addr, 4);
  } else if (p.family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, p.addr, 16);
  }
  a.setPort(p.port);
  return a;
}

const char* checkHello(const BootstrapHeader& h, const JobSecret& secret) {
  if (h.type != BootstrapMsg::kHello) return "not a hello";
  if (h.secret != secret)
    return "wrong job secret (another job, or TCCL_JOB_SECRET differs between the ranks)";
  if (h.bytes != sizeof(PackedAddress)) return "bad hello size";
  if (h.nranks <= 0 || h.nranks > kMaxRanks || h.rank < 0 || h.rank >= h.nranks)
    return "rank or nranks out of range";
  return nullptr;
}

const char* checkRootReply(const BootstrapHeader& h, const JobSecret& secret, int nranks) {
  if (h.secret != secret) return "wrong job secret";
  if (h.type == BootstrapMsg::kError) return h.bytes <= kMaxErrorText ? nullptr : "long error";
  if (h.type != BootstrapMsg::kTable) return "unexpected message type";
  const uint64_t tableBytes =
      sizeof(TablePayload) + static_cast<uint64_t>(nranks) * sizeof(PackedAddress);
  if (h.nranks != nranks || h.bytes != tableBytes) return "table of the wrong size";
  return nullptr;
}

const char* checkP2p(const BootstrapHeader& h, const JobSecret& jobKey, int nranks) {
  if (h.type != BootstrapMsg::kP2p) return "not a point-to-point message";
  if (h.secret != jobKey) return "wrong job key (another job, or a stranger)";
  if (h.nranks != nranks || h.rank < 0 || h.rank >= nranks) return "rank out of range";
  return nullptr;
}

size_t MessageReader::wanted() const {
  if (rejected_) return 0;
  if (headerBytes_ < sizeof(BootstrapHeader)) return sizeof(BootstrapHeader) - headerBytes_;
  return header_.bytes - payload_.size();
}

size_t MessageReader::consume(const char* data, size_t n) {
  size_t used = 0;
  if (headerBytes_ < sizeof(BootstrapHeader) && !rejected_) {
    used = std::min(n, sizeof(BootstrapHeader) - headerBytes_);
    memcpy(reinterpret_cast<char*>(&header_) + headerBytes_, data, used);
    headerBytes_ += used;
    if (headerBytes_ < sizeof(BootstrapHeader)) return used;
    if (header_.magic != kBootstrapMagic)
      rejected_ = "bad magic";
    else if (header_.bytes > kMaxBootstrapPayload)
      rejected_ = "payload larger than 64 MiB";
    else
      rejected_ = check_(header_);
    if (rejected_) return used;
    payload_.reserve(header_.bytes);
  }
  if (rejected_) return used;
  const size_t take = std::min(n - used, wanted());
  payload_.insert(payload_.end(), data + used, data + used + take);
  return used + take;
}

}  // namespace tccl
