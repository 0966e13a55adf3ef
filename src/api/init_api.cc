// Communicator lifetime and queries.
#include <cstring>

#include "api/api.h"
#include "base/bootstrap.h"
#include "base/env.h"
#include "base/error.h"
#include "core/comm_init.h"
#include "core/communicator.h"

using namespace tccl;

NCCL_API(ncclResult_t, ncclGetVersion, int* version);
ncclResult_t ncclGetVersion(int* version) try {
  if (!version) return setError(ncclInvalidArgument, "ncclGetVersion: version is NULL");
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclGetUniqueId, ncclUniqueId* uniqueId);
ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId) try {
  if (!uniqueId) return setError(ncclInvalidArgument, "ncclGetUniqueId: uniqueId is NULL");
  int64_t timeout = 120;
  TCCL_CHECK(envInt("TCCL_BOOTSTRAP_TIMEOUT", 120, 1, 86400, &timeout));
  return createUniqueId(uniqueId, static_cast<double>(timeout), true);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommInitRank, ncclComm_t* comm, int nranks, ncclUniqueId commId,
         int rank);
ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank) try {
  return commInitRank(comm, nranks, commId, rank, nullptr);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommInitRankConfig, ncclComm_t* comm, int nranks, ncclUniqueId commId,
         int rank, ncclConfig_t* config);
ncclResult_t ncclCommInitRankConfig(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank,
                                    ncclConfig_t* config) try {
  return commInitRank(comm, nranks, commId, rank, config);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommInitRankScalable, ncclComm_t* newcomm, int nranks, int myrank,
         int nId, ncclUniqueId* commIds, ncclConfig_t* config);
ncclResult_t ncclCommInitRankScalable(ncclComm_t* newcomm, int nranks, int myrank, int nId,
                                      ncclUniqueId* commIds, ncclConfig_t* config) try {
  if (nId < 1 || !commIds)
    return setError(ncclInvalidArgument, "ncclCommInitRankScalable: nId=%d with commIds %p", nId,
                    static_cast<void*>(commIds));
  // One rendezvous root is plenty at the scales TCCL targets: use the first id.
  return commInitRank(newcomm, nranks, commIds[0], myrank, config);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommInitAll, ncclComm_t* comm, int ndev, const int* devlist);
ncclResult_t ncclCommInitAll(ncclComm_t* comm, int ndev, const int* devlist) try {
  return commInitAll(comm, ndev, devlist);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommSplit, ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
         ncclConfig_t* config);
ncclResult_t ncclCommSplit(ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
                           ncclConfig_t* config) try {
  TCCL_CHECK(checkComm(comm, "ncclCommSplit"));
  if (!newcomm)
    return finish(comm, setError(ncclInvalidArgument, "ncclCommSplit: newcomm is NULL"));
  if (color < 0 && color != NCCL_SPLIT_NOCOLOR)
    return finish(comm,
                  setError(ncclInvalidArgument, "ncclCommSplit: color %d is negative", color));
  return finish(comm, commSplit(comm, color, key, newcomm, config));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommShrink, ncclComm_t comm, int* excludeRanksList,
         int excludeRanksCount, ncclComm_t* newcomm, ncclConfig_t* config, int shrinkFlags);
ncclResult_t ncclCommShrink(ncclComm_t comm, int* excludeRanksList, int excludeRanksCount,
                            ncclComm_t* newcomm, ncclConfig_t* config, int shrinkFlags) try {
  TCCL_CHECK(checkComm(comm, "ncclCommShrink"));
  if (!newcomm)
    return finish(comm, setError(ncclInvalidArgument, "ncclCommShrink: newcomm is NULL"));
  if (excludeRanksCount < 0 || (excludeRanksCount > 0 && !excludeRanksList))
    return finish(comm, setError(ncclInvalidArgument, "ncclCommShrink: invalid exclude list"));
  if (shrinkFlags != NCCL_SHRINK_DEFAULT && shrinkFlags != NCCL_SHRINK_ABORT)
    return finish(comm,
                  setError(ncclInvalidArgument, "ncclCommShrink: unknown flags %#x", shrinkFlags));
  return finish(comm, commShrink(comm, excludeRanksList, excludeRanksCount, newcomm, config));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommFinalize, ncclComm_t comm);
ncclResult_t ncclCommFinalize(ncclComm_t comm) try {
  if (!comm) return setError(ncclInvalidArgument, "ncclCommFinalize: comm is NULL");
  if (!isLiveComm(comm))
    return setError(ncclInvalidArgument, "ncclCommFinalize: comm %p is not a live communicator",
                    static_cast<void*>(comm));
  return commFinalize(comm);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommDestroy, ncclComm_t comm);
ncclResult_t ncclCommDestroy(ncclComm_t comm) try {
  if (!comm) return ncclSuccess;  // NCCL accepts NULL here
  if (!isLiveComm(comm))
    return setError(ncclInvalidArgument,
                    "ncclCommDestroy: comm %p is not a live communicator (destroyed twice?)",
                    static_cast<void*>(comm));
  return commDestroy(comm);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommAbort, ncclComm_t comm);
ncclResult_t ncclCommAbort(ncclComm_t comm) try {
  if (!comm) return ncclSuccess;
  if (!isLiveComm(comm))
    return setError(ncclInvalidArgument, "ncclCommAbort: comm %p is not a live communicator",
                    static_cast<void*>(comm));
  return commAbort(comm);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommRevoke, ncclComm_t comm, int revokeFlags);
ncclResult_t ncclCommRevoke(ncclComm_t, int) try {
  return unsupported("ncclCommRevoke", "revoking in-flight operations");
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommGetAsyncError, ncclComm_t comm, ncclResult_t* asyncError);
ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* asyncError) try {
  if (!comm) return setError(ncclInvalidArgument, "ncclCommGetAsyncError: comm is NULL");
  if (!asyncError)
    return setError(ncclInvalidArgument, "ncclCommGetAsyncError: asyncError is NULL");
  if (!isLiveComm(comm))
    return setError(ncclInvalidArgument,
                    "ncclCommGetAsyncError: comm %p is not a live communicator",
                    static_cast<void*>(comm));
  *asyncError = comm->asyncError.load();
  return ncclSuccess;
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommCount, const ncclComm_t comm, int* count);
ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) try {
  TCCL_CHECK(checkComm(comm, "ncclCommCount"));
  if (!count) return finish(comm, setError(ncclInvalidArgument, "ncclCommCount: count is NULL"));
  *count = comm->nranks;
  return ncclSuccess;
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommCuDevice, const ncclComm_t comm, int* device);
ncclResult_t ncclCommCuDevice(const ncclComm_t comm, int* device) try {
  TCCL_CHECK(checkComm(comm, "ncclCommCuDevice"));
  if (!device)
    return finish(comm, setError(ncclInvalidArgument, "ncclCommCuDevice: device is NULL"));
  *device = comm->cudaDev;
  return ncclSuccess;
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclCommUserRank, const ncclComm_t comm, int* rank);
ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) try {
  TCCL_CHECK(checkComm(comm, "ncclCommUserRank"));
  if (!rank) return finish(comm, setError(ncclInvalidArgument, "ncclCommUserRank: rank is NULL"));
  *rank = comm->rank;
  return ncclSuccess;
}
TCCL_API_CATCH
