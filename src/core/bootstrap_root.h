// The rendezvous root: collects every rank's listening address and hands the table back.
// It runs on a thread of the process that created the unique id (which may only wait, as
// NCCL allows) or of rank 0 when NCCL_COMM_ID names the address.
#pragma once

#include <nccl.h>

#include "core/bootstrap_wire.h"

namespace tccl {

// Binds `*addr` (port 0 picks one; the bound address is written back) and starts serving
// one job identified by `nonce`. The server stops by itself once every rank got the table,
// or after `timeoutSec`.
ncclResult_t startBootstrapRoot(SocketAddress* addr, uint64_t nonce, double timeoutSec);

}  // namespace tccl
