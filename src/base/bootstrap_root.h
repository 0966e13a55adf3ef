// The rendezvous root: collects every rank's listening address and hands the table back.
// It runs on a thread of the process that created the unique id (which may only wait, as
// NCCL allows) or of rank 0 when NCCL_COMM_ID names the address.
#pragma once

#include <nccl.h>

#include <string>

#include "base/bootstrap_wire.h"

namespace tccl {

// Binds `*addr` (port 0 picks one; the bound address is written back) and starts serving
// one job whose hellos carry `secret`. The server stops by itself once every rank got the
// table, or after `timeoutSec`. A rank claimed twice fails the job: every rank that joined
// (and the second claimant) gets an error naming both. With `lingerForLateClaims` (the
// NCCL_COMM_ID root), claims that come after the table are answered with an error naming the
// rank's holder until `timeoutSec`, or until this process starts another root on that port.
ncclResult_t startBootstrapRoot(SocketAddress* addr, const JobSecret& secret, double timeoutSec,
                                bool lingerForLateClaims = false);
// What a root of this process serving `secret` saw go wrong after the job formed (a rank
// claimed again), or "": rank 0 adds it to its own errors.
std::string bootstrapRootNotes(const JobSecret& secret);

}  // namespace tccl
