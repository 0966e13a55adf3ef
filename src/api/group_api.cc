#include "api/api.h"
#include "core/group.h"

using namespace tccl;

NCCL_API(ncclResult_t, ncclGroupStart);
ncclResult_t ncclGroupStart() try { return groupStart(); }
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclGroupEnd);
ncclResult_t ncclGroupEnd() try { return groupEnd(); }
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclGroupSimulateEnd, ncclSimInfo_t* simInfo);
ncclResult_t ncclGroupSimulateEnd(ncclSimInfo_t*) try {
  return unsupported("ncclGroupSimulateEnd", "use tccl-sim to model a plan's time");
}
TCCL_API_CATCH
