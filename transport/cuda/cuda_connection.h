// CUDA hops: the slot FIFO of transport/connection.h with its data in device memory (p2p) or
// in pinned, mapped host memory bound to a NUMA node (host bounce), and its two counters in a
// small shared-memory header that both proxies poll. The counters are written by the GPU
// streams (stream memory operations enqueued by commitSend/releaseRecv), so a slot is
// published only after the kernel or copy that filled it, and given back only after the one
// that read it, without the proxy ever waiting on the GPU.
//
//   p2p_write:  buffer in the receiver's GPU; the sender's step writes it (IPC handle)
//   p2p_read:   buffer in the sender's GPU; the receiver's step reads it (IPC handle)
//   bounce@k:   buffer in host memory on NUMA node k, mapped into both GPUs
//
// Setup has the shape of the shm transport (the sender creates, the receiver opens, one
// bootstrap message) so that connectRings/connectP2p need no new round: a p2p_write sender
// learns the receiver's IPC handle from the shared header on first use.
#pragma once

#include <memory>

#include "base/bootstrap.h"
#include "plan/hop.h"
#include "transport/connection.h"

namespace tccl {

class CudaBackend;

struct CudaConnectionSpec {
  size_t slotBytes = 1 << 20;
  int nSlots = 4;
  uint32_t tag = 0;  // distinguishes connections between the same two ranks
  // kP2pWrite, kP2pRead or kHostBounce (with numa, engine, readEngine). kShm (the default
  // plan's hop) is a host bounce with first-touch placement.
  Hop hop;
};

// `device` runs this rank's steps; it must outlive the connection. The peer uses the same
// spec (sizes and hop kind are checked).
ncclResult_t cudaConnectSend(Bootstrap& bootstrap, int peer, const CudaConnectionSpec& spec,
                             CudaBackend& device, std::unique_ptr<Connection>* out);
ncclResult_t cudaConnectRecv(Bootstrap& bootstrap, int peer, const CudaConnectionSpec& spec,
                             CudaBackend& device, std::unique_ptr<Connection>* out);
// The sender's last step, as with the shm hop: waits until the receiver holds the connection.
ncclResult_t cudaAwaitReceiver(Bootstrap& bootstrap, int peer, const CudaConnectionSpec& spec);

}  // namespace tccl
