// Error results with a message: what ncclGetLastError() returns. Library code never exits;
// every failure travels up as an ncclResult_t with its message recorded here.
#pragma once

#include <nccl.h>

#include <string>

namespace tccl {

// Records the message for this thread (and, through the API layer, for the communicator),
// logs it as a WARN line and returns `result` so callers can `return setError(...)`.
ncclResult_t setError(ncclResult_t result, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
const std::string& lastThreadError();

// Inside a catch block: records the exception in flight as the error of `where` and returns
// ncclSystemError when out of memory, ncclInternalError otherwise.
ncclResult_t errorFromException(const char* where);

// The enumerator's own name, "ncclRemoteError", for messages and tests.
const char* resultName(ncclResult_t result);

}  // namespace tccl

// Propagates a failing ncclResult_t.
#define TCCL_CHECK(call)                            \
  do {                                              \
    ncclResult_t tccl_res_ = (call);                \
    if (tccl_res_ != ncclSuccess) return tccl_res_; \
  } while (0)
