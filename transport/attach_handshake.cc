#include "transport/attach_handshake.h"

#include "base/bootstrap_tags.h"

namespace tccl {

ncclResult_t confirmAttached(Bootstrap& bootstrap, int peer, uint32_t tag) {
  return bootstrap.send(peer, tag | bootstrap_tags::kAttached, nullptr, 0);
}

ncclResult_t awaitAttached(Bootstrap& bootstrap, int peer, uint32_t tag) {
  return bootstrap.recv(peer, tag | bootstrap_tags::kAttached, nullptr, 0);
}

}  // namespace tccl
