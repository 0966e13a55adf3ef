// ncclGroupStart/End and the queue of operations issued inside a group. Outside a group each
// call is a group of its own.
#pragma once

#include <nccl.h>

#include "device/device_backend.h"
#include "exec/ring_schedule.h"

namespace tccl {

struct CollTask {
  CollArgs args;
  ReduceSpec spec;
  cudaStream_t stream = nullptr;  // the CUDA backend orders the work on it
};

struct P2pTask {
  bool isSend = true;
  void* buff = nullptr;
  size_t count = 0;
  ncclDataType_t type = ncclFloat32;
  int peer = 0;
  cudaStream_t stream = nullptr;
  std::shared_ptr<void> keepAlive;  // memory `buff` points into (a staged in-place input)
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
