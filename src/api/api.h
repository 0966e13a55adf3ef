// Helpers for the exported NCCL API: every function is defined as pnccl<Name> with
// nccl<Name> as a weak alias, like NCCL itself, so profilers can interpose either.
#pragma once

#include <nccl.h>

#include <cstddef>

#include "base/error.h"
#include "device/device_backend.h"

#define NCCL_API(ret, func, ...)                                                            \
  extern "C" __attribute__((visibility("default"), alias(#func))) ret p##func(__VA_ARGS__); \
  extern "C" __attribute__((visibility("default"), weak)) ret func(__VA_ARGS__)

// Every exported function body is a function-try-block closed by one of these: no exception
// (std::bad_alloc, a bug) may cross the C ABI, where it would terminate the host program.
//   ncclResult_t ncclX(...) try { ... }
//   TCCL_API_CATCH
#define TCCL_API_CATCH                         \
  catch (...) {                                \
    return tccl::errorFromException(__func__); \
  }
#define TCCL_API_CATCH_RETURN(value)          \
  catch (...) {                               \
    (void)tccl::errorFromException(__func__); \
    return value;                             \
  }

namespace tccl {

// Validates a communicator handle for `fn`: not NULL, alive, initialized and not broken.
ncclResult_t checkComm(ncclComm_t comm, const char* fn);
ncclResult_t checkDataType(ncclDataType_t type, const char* fn);
// Resolves a built-in or PreMulSum op for `type` into how to reduce.
ncclResult_t resolveRedOp(ncclComm_t comm, ncclRedOp_t op, ncclDataType_t type, const char* fn,
                          ReduceSpec* spec);
ncclResult_t checkRank(ncclComm_t comm, int rank, const char* what, const char* fn);
ncclResult_t checkBuffer(const void* buf, size_t count, const char* name, const char* fn);
// count * factor elements of `type` must be addressable.
ncclResult_t checkCount(size_t count, size_t factor, ncclDataType_t type, const char* fn);
// Records a failure's message on the communicator (ncclGetLastError(comm)) and returns it.
ncclResult_t finish(ncclComm_t comm, ncclResult_t res);

ncclResult_t unsupported(const char* fn, const char* what);

}  // namespace tccl
