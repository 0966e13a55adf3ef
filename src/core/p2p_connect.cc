#include "core/p2p_connect.h"

#include <utility>

#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "core/communicator.h"
#include "core/hop_setup.h"

namespace tccl {
namespace {

HopSetup p2pHop(const ncclComm* comm, int peer) {
  HopSetup hop;
  hop.peer = peer;
  hop.tag = bootstrap_tags::kP2p;
  hop.net = hopUsesNet(*comm, peer);
  return hop;
}

}  // namespace

// Every send side first, for all communicators, then every receive side: a receive waits for
// its peer's send side, which may be this very thread (several ranks in one group).
ncclResult_t connectP2p(std::vector<CommWork>& all) {
  std::vector<std::pair<ncclComm*, int>> newSends;
  for (CommWork& w : all)
    for (const P2pTask& t : w.p2p)
      if (t.isSend && !w.comm->p2pSend.count(t.peer)) {
        TCCL_CHECK(hopConnectSend(*w.comm, p2pHop(w.comm, t.peer), &w.comm->p2pSend[t.peer]));
        newSends.emplace_back(w.comm, t.peer);
      }
  for (CommWork& w : all)
    for (const P2pTask& t : w.p2p)
      if (!t.isSend && !w.comm->p2pRecv.count(t.peer))
        TCCL_CHECK(hopConnectRecv(*w.comm, p2pHop(w.comm, t.peer), &w.comm->p2pRecv[t.peer]));
  for (auto [comm, peer] : newSends)
    TCCL_CHECK(hopAwaitReceiver(*comm, p2pHop(comm, peer), *comm->p2pSend[peer]));
  return ncclSuccess;
}

}  // namespace tccl
