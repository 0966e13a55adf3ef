#include "core/transport_table.h"

#include <array>

#include "base/error.h"

namespace tccl {

std::span<const Transport* const> transportTable() {
  static const std::array kTable{
#ifdef TCCL_HAVE_CUDA
      &kCudaTransport,  // before shm: a CUDA communicator's intra-node hops move GPU data
#endif
      &kShmTransport,
      &kNetPluginTransport,  // hops between nodes, when a plugin network was chosen at init
      &kNetSocketTransport,
  };
  return kTable;
}

const Transport* transportFor(const HopContext& ctx, const HopSetup& hop) {
  for (const Transport* t : transportTable())
    if (t->canConnect(ctx, hop)) return t;
  setError(ncclInternalError, "no transport can connect rank %d to rank %d (%s)", ctx.rank,
           hop.peer, hop.net ? "across nodes" : "on one node");
  return nullptr;
}

}  // namespace tccl
