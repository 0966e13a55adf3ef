// ncclGroupStart/End and the queue of operations issued inside a group. Outside a group each
// call is a group of its own.
#pragma once

#include <nccl.h>

#include <vector>

#include "exec/compile.h"

namespace tccl {

// One communicator's share of a group.
struct CommWork {
  ncclComm* comm = nullptr;
  std::vector<CollTask> colls;
  std::vector<P2pTask> p2p;
};

ncclResult_t groupStart();
ncclResult_t groupEnd();
bool inGroup();

// Queue work for the current group (or run it at once outside one).
ncclResult_t enqueueColl(ncclComm_t comm, const CollTask& task);
ncclResult_t enqueueP2p(ncclComm_t comm, const P2pTask& task);
// A communicator whose init runs during the group; groupEnd waits for it.
void groupAddPendingInit(ncclComm_t comm);

}  // namespace tccl
