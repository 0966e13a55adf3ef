// The device-side API of nccl_device.h (GPU-initiated communication): exported so that a
// preloaded application never reaches the real NCCL with our handles, and refused clearly.
#include <cstddef>
// nccl_device.h uses size_t without including its header.
using std::size_t;
#include <nccl_device.h>

#include "api/api.h"
#include "base/error.h"

using namespace tccl;

namespace {
constexpr const char* kWhy = "the device-initiated API of nccl_device.h";
}

NCCL_API(ncclResult_t, ncclDevCommCreate, ncclComm_t comm, ncclDevCommRequirements_t const* reqs,
         ncclDevComm_t* outDevComm);
ncclResult_t ncclDevCommCreate(ncclComm_t, ncclDevCommRequirements_t const*, ncclDevComm_t*) try {
  return unsupported("ncclDevCommCreate", kWhy);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclDevCommDestroy, ncclComm_t comm, ncclDevComm_t const* devComm);
ncclResult_t ncclDevCommDestroy(ncclComm_t, ncclDevComm_t const*) try {
  return unsupported("ncclDevCommDestroy", kWhy);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclLsaBarrierCreateRequirement, ncclTeam_t team, int nBarriers,
         ncclLsaBarrierHandle_t* outHandle, ncclDevResourceRequirements_t* outReq);
ncclResult_t ncclLsaBarrierCreateRequirement(ncclTeam_t, int, ncclLsaBarrierHandle_t*,
                                             ncclDevResourceRequirements_t*) try {
  return unsupported("ncclLsaBarrierCreateRequirement", kWhy);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclGinBarrierCreateRequirement, ncclComm_t comm, ncclTeam_t team,
         int nBarriers, ncclGinBarrierHandle_t* outHandle, ncclDevResourceRequirements_t* outReq);
ncclResult_t ncclGinBarrierCreateRequirement(ncclComm_t, ncclTeam_t, int, ncclGinBarrierHandle_t*,
                                             ncclDevResourceRequirements_t*) try {
  return unsupported("ncclGinBarrierCreateRequirement", kWhy);
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclLLA2ACreateRequirement, int nBlocks, int nSlots,
         ncclLLA2AHandle_t* outHandle, ncclDevResourceRequirements_t* outReq);
ncclResult_t ncclLLA2ACreateRequirement(int, int, ncclLLA2AHandle_t*,
                                        ncclDevResourceRequirements_t*) try {
  return unsupported("ncclLLA2ACreateRequirement", kWhy);
}
TCCL_API_CATCH

// The functions below return values, not results: they record the error and return an empty
// team or -1.
NCCL_API(int, ncclLLA2ACalcSlots, int maxElts, int maxEltSize);
int ncclLLA2ACalcSlots(int, int) try {
  unsupported("ncclLLA2ACalcSlots", kWhy);
  return -1;
}
TCCL_API_CATCH_RETURN(-1)

NCCL_API(ncclTeam_t, ncclTeamWorld, ncclComm_t comm);
ncclTeam_t ncclTeamWorld(ncclComm_t) try {
  unsupported("ncclTeamWorld", kWhy);
  return ncclTeam_t{};
}
TCCL_API_CATCH_RETURN(ncclTeam_t{})

NCCL_API(ncclTeam_t, ncclTeamLsa, ncclComm_t comm);
ncclTeam_t ncclTeamLsa(ncclComm_t) try {
  unsupported("ncclTeamLsa", kWhy);
  return ncclTeam_t{};
}
TCCL_API_CATCH_RETURN(ncclTeam_t{})

NCCL_API(ncclTeam_t, ncclTeamRail, ncclComm_t comm);
ncclTeam_t ncclTeamRail(ncclComm_t) try {
  unsupported("ncclTeamRail", kWhy);
  return ncclTeam_t{};
}
TCCL_API_CATCH_RETURN(ncclTeam_t{})

NCCL_API(int, ncclTeamRankToWorld, ncclComm_t comm, ncclTeam_t team, int rank);
int ncclTeamRankToWorld(ncclComm_t, ncclTeam_t, int) try {
  unsupported("ncclTeamRankToWorld", kWhy);
  return -1;
}
TCCL_API_CATCH_RETURN(-1)

NCCL_API(int, ncclTeamRankToLsa, ncclComm_t comm, ncclTeam_t team, int rank);
int ncclTeamRankToLsa(ncclComm_t, ncclTeam_t, int) try {
  unsupported("ncclTeamRankToLsa", kWhy);
  return -1;
}
TCCL_API_CATCH_RETURN(-1)
