// PreMulSum operators.
#include "api/api.h"
#include "base/datatype.h"
#include "base/error.h"
#include "core/communicator.h"

using namespace tccl;

namespace {
double hostScalar(const void* p, ncclDataType_t type) {
  switch (type) {
    case ncclInt8:
      return *static_cast<const int8_t*>(p);
    case ncclUint8:
      return *static_cast<const uint8_t*>(p);
    case ncclInt32:
      return *static_cast<const int32_t*>(p);
    case ncclUint32:
      return *static_cast<const uint32_t*>(p);
    case ncclInt64:
      return static_cast<double>(*static_cast<const int64_t*>(p));
    case ncclUint64:
      return static_cast<double>(*static_cast<const uint64_t*>(p));
    case ncclFloat16:
      return halfToFloat(*static_cast<const uint16_t*>(p));
    case ncclFloat32:
      return *static_cast<const float*>(p);
    case ncclFloat64:
      return *static_cast<const double*>(p);
    case ncclBfloat16:
      return bf16ToFloat(*static_cast<const uint16_t*>(p));
    case ncclFloat8e4m3:
      return fp8e4m3ToFloat(*static_cast<const uint8_t*>(p));
    case ncclFloat8e5m2:
      return fp8e5m2ToFloat(*static_cast<const uint8_t*>(p));
    default:
      return 0;
  }
}
}  // namespace

NCCL_API(ncclResult_t, ncclRedOpCreatePreMulSum, ncclRedOp_t* op, void* scalar,
         ncclDataType_t datatype, ncclScalarResidence_t residence, ncclComm_t comm);
ncclResult_t ncclRedOpCreatePreMulSum(ncclRedOp_t* op, void* scalar, ncclDataType_t datatype,
                                      ncclScalarResidence_t residence, ncclComm_t comm) try {
  const char* fn = "ncclRedOpCreatePreMulSum";
  auto run = [&]() -> ncclResult_t {
    TCCL_CHECK(checkComm(comm, fn));
    TCCL_CHECK(checkDataType(datatype, fn));
    if (!op) return setError(ncclInvalidArgument, "%s: op is NULL", fn);
    if (!scalar) return setError(ncclInvalidArgument, "%s: scalar is NULL", fn);
    if (residence != ncclScalarHostImmediate && residence != ncclScalarDevice)
      return setError(ncclInvalidArgument, "%s: invalid scalar residence %d", fn,
                      static_cast<int>(residence));
    UserRedOp user;
    user.type = datatype;
    if (residence == ncclScalarHostImmediate)
      user.scalar = hostScalar(scalar, datatype);
    else
      user.scalarPtr = scalar;
    const std::optional<size_t> slot =
        comm->userOps.add(user, static_cast<size_t>(ncclMaxRedOp) + 1 - ncclNumOps);
    if (!slot) return setError(ncclInvalidUsage, "%s: too many reduction operators", fn);
    *op = static_cast<ncclRedOp_t>(ncclNumOps + *slot);
    return ncclSuccess;
  };
  return finish(comm, run());
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclRedOpDestroy, ncclRedOp_t op, ncclComm_t comm);
ncclResult_t ncclRedOpDestroy(ncclRedOp_t op, ncclComm_t comm) try {
  const char* fn = "ncclRedOpDestroy";
  auto run = [&]() -> ncclResult_t {
    TCCL_CHECK(checkComm(comm, fn));
    if (op >= ncclSum && op < ncclNumOps)
      return setError(ncclInvalidArgument, "%s: op %d is built in and cannot be destroyed", fn,
                      static_cast<int>(op));
    const int64_t index = static_cast<int64_t>(op) - ncclNumOps;
    if (!comm->userOps.remove(index))
      return setError(ncclInvalidArgument,
                      "%s: op %d was not created on this communicator (or was destroyed)", fn,
                      static_cast<int>(op));
    return ncclSuccess;
  };
  return finish(comm, run());
}
TCCL_API_CATCH
