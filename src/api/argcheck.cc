#include <cstdint>

#include "api/api.h"
#include "base/datatype.h"
#include "base/error.h"
#include "core/communicator.h"

namespace tccl {

ncclResult_t checkComm(ncclComm_t comm, const char* fn) {
  if (!comm) return setError(ncclInvalidArgument, "%s: comm is NULL", fn);
  if (!isLiveComm(comm))
    return setError(ncclInvalidArgument,
                    "%s: comm %p is not a live communicator (destroyed, or never created)", fn,
                    static_cast<void*>(comm));
  ncclResult_t state = waitCommReady(comm);
  if (state != ncclSuccess)
    return setError(state, "%s: the communicator is in an error state: %s", fn,
                    comm->lastError.c_str());
  return ncclSuccess;
}

ncclResult_t checkDataType(ncclDataType_t type, const char* fn) {
  if (type < 0 || type >= ncclNumTypes)
    return setError(ncclInvalidArgument, "%s: invalid datatype %d", fn, static_cast<int>(type));
  return ncclSuccess;
}

ncclResult_t resolveRedOp(ncclComm_t comm, ncclRedOp_t op, ncclDataType_t type, const char* fn,
                          ReduceSpec* spec) {
  spec->type = type;
  switch (op) {
    case ncclSum:
      spec->kind = ReduceKind::kSum;
      return ncclSuccess;
    case ncclProd:
      spec->kind = ReduceKind::kProd;
      return ncclSuccess;
    case ncclMax:
      spec->kind = ReduceKind::kMax;
      return ncclSuccess;
    case ncclMin:
      spec->kind = ReduceKind::kMin;
      return ncclSuccess;
    case ncclAvg:
      if (isFloatingType(type)) {
        spec->kind = ReduceKind::kPreMulSum;
        spec->scalar = 1.0 / comm->nranks;
      } else {
        spec->kind = ReduceKind::kSum;
        spec->divisor = comm->nranks;
      }
      return ncclSuccess;
    default:
      break;
  }
  const int64_t index = static_cast<int64_t>(op) - ncclNumOps;
  const UserRedOp* found = comm->userOps.find(index);
  if (!found)
    return setError(ncclInvalidArgument, "%s: invalid reduction op %d", fn, static_cast<int>(op));
  const UserRedOp& user = *found;
  if (user.type != type)
    return setError(ncclInvalidArgument, "%s: op %d was created for datatype %s, not %s", fn,
                    static_cast<int>(op), dataTypeName(user.type), dataTypeName(type));
  spec->kind = ReduceKind::kPreMulSum;
  spec->scalar = user.scalar;
  spec->scalarPtr = user.scalarPtr;
  return ncclSuccess;
}

ncclResult_t checkRank(ncclComm_t comm, int rank, const char* what, const char* fn) {
  if (rank < 0 || rank >= comm->nranks)
    return setError(ncclInvalidArgument, "%s: %s %d is out of range [0, %d)", fn, what, rank,
                    comm->nranks);
  return ncclSuccess;
}

ncclResult_t checkBuffer(const void* buf, size_t count, const char* name, const char* fn) {
  if (!buf && count > 0)
    return setError(ncclInvalidArgument, "%s: %s is NULL with count %zu", fn, name, count);
  return ncclSuccess;
}

ncclResult_t checkCount(size_t count, size_t factor, ncclDataType_t type, const char* fn) {
  const size_t elem = dataTypeSize(type);
  if (factor && count > SIZE_MAX / factor / elem / 2)
    return setError(ncclInvalidArgument, "%s: count %zu overflows the address space", fn, count);
  return ncclSuccess;
}

ncclResult_t finish(ncclComm_t comm, ncclResult_t res) {
  if (res != ncclSuccess && res != ncclInProgress && comm && isLiveComm(comm))
    comm->lastError = lastThreadError();
  return res;
}

ncclResult_t unsupported(const char* fn, const char* what) {
  return setError(ncclInvalidUsage,
                  "%s is not supported by TCCL (%s); see the compatibility table in TCCL's README",
                  fn, what);
}

}  // namespace tccl
