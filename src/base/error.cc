#include "base/error.h"

#include <cstdarg>
#include <cstdio>
#include <exception>
#include <new>

#include "base/log.h"

namespace tccl {
namespace {
thread_local std::string tLastError;
}

ncclResult_t setError(ncclResult_t result, const char* fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  tLastError = msg;
  WARN("%s", msg);
  return result;
}

const std::string& lastThreadError() {
  return tLastError;
}

ncclResult_t errorFromException(const char* where) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return setError(ncclSystemError, "%s: out of memory", where);
  } catch (const std::exception& e) {
    return setError(ncclInternalError, "%s: unexpected exception: %s", where, e.what());
  } catch (...) {
    return setError(ncclInternalError, "%s: unexpected exception", where);
  }
}

const char* resultName(ncclResult_t result) {
  switch (result) {
    case ncclSuccess:
      return "ncclSuccess";
    case ncclUnhandledCudaError:
      return "ncclUnhandledCudaError";
    case ncclSystemError:
      return "ncclSystemError";
    case ncclInternalError:
      return "ncclInternalError";
    case ncclInvalidArgument:
      return "ncclInvalidArgument";
    case ncclInvalidUsage:
      return "ncclInvalidUsage";
    case ncclRemoteError:
      return "ncclRemoteError";
    case ncclInProgress:
      return "ncclInProgress";
    default:
      return "an unknown result code";
  }
}

}  // namespace tccl
