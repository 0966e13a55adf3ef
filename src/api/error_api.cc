// Error strings and debug settings.
#include "api/api.h"
#include "base/error.h"
#include "base/log.h"
#include "core/communicator.h"

using namespace tccl;

NCCL_API(const char*, ncclGetErrorString, ncclResult_t result);
const char* ncclGetErrorString(ncclResult_t result) try {
  switch (result) {
    case ncclSuccess:
      return "no error";
    case ncclUnhandledCudaError:
      return "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
    case ncclSystemError:
      return "unhandled system error (run with NCCL_DEBUG=INFO for details)";
    case ncclInternalError:
      return "internal error - please report this issue to the TCCL developers";
    case ncclInvalidArgument:
      return "invalid argument (run with NCCL_DEBUG=WARN for details)";
    case ncclInvalidUsage:
      return "invalid usage (run with NCCL_DEBUG=WARN for details)";
    case ncclRemoteError:
      return "remote process exited or there was a network error";
    case ncclInProgress:
      return "NCCL operation in progress";
    default:
      return "unknown result code";
  }
}
TCCL_API_CATCH_RETURN("internal error")

NCCL_API(const char*, ncclGetLastError, ncclComm_t comm);
const char* ncclGetLastError(ncclComm_t comm) try {
  if (comm && isLiveComm(comm) && !comm->lastError.empty()) return comm->lastError.c_str();
  return lastThreadError().c_str();
}
TCCL_API_CATCH_RETURN("internal error")

NCCL_API(void, ncclResetDebugInit);
void ncclResetDebugInit() try { resetLogging(); }
TCCL_API_CATCH_RETURN()

// Exported by NCCL 2.28 for its own tools; not in nccl.h.
extern "C" __attribute__((visibility("default"))) void ncclResetDebugInitInternal() try {
  resetLogging();
}
TCCL_API_CATCH_RETURN()
