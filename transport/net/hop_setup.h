// Setting up one hop of a communicator over the right transport: shared memory between ranks
// of one node, sockets between nodes (different node identity, or different machines). Both
// transports connect in the same three phases; run every send side of a batch, then every
// receive side, then every await, so that no rank waits on a peer that waits on it.
#pragma once

#include <memory>

#include "plan/hop.h"
#include "transport/connection.h"

struct ncclComm;

namespace tccl {

struct HopSetup {
  int peer = 0;
  uint32_t tag = 0;   // distinguishes connections between the same two ranks
  int numaNode = -1;  // bounce or staging buffer placement; -1: none
  bool net = false;   // hopUsesNet(comm, peer)
  Hop descriptor;     // what the plan says about this hop (kShm when it says nothing)
};

bool hopUsesNet(const ncclComm& comm, int peer);
ncclResult_t hopConnectSend(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out);
ncclResult_t hopConnectRecv(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out);
ncclResult_t hopAwaitReceiver(ncclComm& comm, const HopSetup& hop, Connection& sendConnection);

}  // namespace tccl
