#include "core/bootstrap_wire.h"

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

}  // namespace tccl
