// Setting up one hop of a communicator: its HopContext, and the transport that the table
// (core/transport_table.h) picks for it. Run every send side of a batch, then every receive
// side, then every await, so that no rank waits on a peer that waits on it.
#pragma once

#include <memory>

#include "transport/transport.h"

struct ncclComm;

namespace tccl {

// Different node identity, or different machines.
bool hopUsesNet(const ncclComm& comm, int peer);
HopContext hopContext(ncclComm& comm);
ncclResult_t hopConnectSend(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out);
ncclResult_t hopConnectRecv(ncclComm& comm, const HopSetup& hop, std::unique_ptr<Connection>* out);
ncclResult_t hopAwaitReceiver(ncclComm& comm, const HopSetup& hop, Connection& sendConnection);

}  // namespace tccl
