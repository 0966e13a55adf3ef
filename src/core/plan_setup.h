// Choosing the communicator's plan at init: the path database (TCCL_DB), an imported TCCL
// XML (TCCL_XML_FILE) or the default plan, and logging it.
#pragma once

#include <nccl.h>

struct ncclComm;

namespace tccl {

// Needs comm->ranks and comm->shape; may allgather again (node types, GPU indices).
ncclResult_t setupPlan(ncclComm* comm);
// One TCCL-subsystem INFO line per channel: "prev -> rank -> next" with hop kinds.
void logPlan(const ncclComm* comm);

}  // namespace tccl
