// Creating and tearing down communicators.
#pragma once

#include <nccl.h>

namespace tccl {

// Reads `config` of any NCCL layout (NULL allowed, see comm_config.h) and creates the
// communicator; inside a group or for a non-blocking config the work continues on a thread and
// *comm is usable at once.
// cudaDev < 0: the current CUDA device (the local rank on the host backend).
ncclResult_t commInitRank(ncclComm_t* comm, int nranks, const ncclUniqueId& id, int rank,
                          const ncclConfig_t* config, int cudaDev = -1);
ncclResult_t commInitAll(ncclComm_t* comms, int ndev, const int* devlist);
ncclResult_t commSplit(ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
                       const ncclConfig_t* config);
ncclResult_t commShrink(ncclComm_t comm, const int* exclude, int nExclude, ncclComm_t* newcomm,
                        const ncclConfig_t* config);
ncclResult_t commFinalize(ncclComm_t comm);
ncclResult_t commDestroy(ncclComm_t comm);
ncclResult_t commAbort(ncclComm_t comm);

}  // namespace tccl
