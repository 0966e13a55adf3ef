// The shared-memory hop: a slot FIFO (transport/slot_fifo.h) in a POSIX shm segment that the sender
// creates (bound to the NUMA node the hop names) and the receiver maps. Works between any two
// processes of one machine, including a rank and itself.
#pragma once

#include <memory>

#include "base/bootstrap.h"
#include "transport/connection.h"

namespace tccl {

struct ShmConnectionSpec {
  size_t slotBytes = 1 << 20;
  int nSlots = 4;
  int numaNode = -1;  // bind the buffer here (a host-bounce hop); -1: first touch
  uint32_t tag = 0;   // distinguishes connections between the same two ranks
};

ncclResult_t shmConnectSend(Bootstrap& bootstrap, int peer, const ShmConnectionSpec& spec,
                            std::unique_ptr<Connection>* out);
ncclResult_t shmConnectRecv(Bootstrap& bootstrap, int peer, const ShmConnectionSpec& spec,
                            std::unique_ptr<Connection>* out);
// The sender's last step: waits until the receiver has mapped the segment (and removed its
// name), so that neither side can tear it down before the other has it. Call it after all of
// this rank's shmConnectSend and shmConnectRecv calls: the receiver answers from its recv step.
ncclResult_t shmAwaitReceiver(Bootstrap& bootstrap, int peer, const ShmConnectionSpec& spec);

}  // namespace tccl
