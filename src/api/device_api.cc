// The device-side API of nccl_device.h (GPU-initiated communication): exported so that a
// preloaded application never reaches the real NCCL with our handles, and refused clearly.
#include <cstddef>
// nccl_device.h uses size_t without including its header.
using std::size_t;
#include <nccl_device.h>

#include "api/api.h"
#include "core/error.h"

using namespace tccl;

namespace {
constexpr const char* kWhy = "the device-initiated API of nccl_device.h";
}

NCCL_API(ncclResult_t, ncclDevCommCreate, ncclComm_t comm, ncclDevCommRequirements_t const* reqs,
         ncclDevComm_t* outDevComm);
ncclResult_t ncclDevCommCreate(ncclComm_t, ncclDevCommRequirements_t const*, ncclDevComm_t*) {
  return unsupported("ncclDevCommCreate", kWhy);
}

NCCL_API(ncclResult_t, ncclDevCommDestroy, ncclComm_t comm, ncclDevComm_t const* devComm);
ncclResult_t ncclDevCommDestroy(ncclComm_t, ncclDevComm_t const*) {
  return unsupported("ncclDevCommDestroy", kWhy);
}

NCCL_API(ncclResult_t, ncclLsaBarrierCreateRequirement, ncclTeam_t team, int nBarriers,
         ncclLsaBarrierHandle_t* outHandle, ncclDevResourceRequirements_t* outReq);
ncclResult_t ncclLsaBarrierCreateRequirement(ncclTeam_t, int, ncclLsaBarrierHandle_t*,
                                             ncclDevResourceRequirements_t*) {
  return unsupported("ncclLsaBarrierCreateRequirement", kWhy);
}

NCCL_API(ncclResult_t, ncclGinBarrierCreateRequirement, ncclComm_t comm, ncclTeam_t team,
         int nBarriers, ncclGinBarrierHandle_t* outHandle, ncclDevResourceRequirements_t* outReq);
ncclResult_t ncclGinBarrierCreateRequirement(ncclComm_t, ncclTeam_t, int, ncclGinBarrierHandle_t*,
                                             ncclDevResourceRequirements_t*) {
  return unsupported("ncclGinBarrierCreateRequirement", kWhy);
}

NCCL_API(ncclResult_t, ncclLLA2ACreateRequirement, int nBlocks, int nSlots,
         ncclLLA2AHandle_t* outHandle, ncclDevResourceRequirements_t* outReq);
ncclResult_t ncclLLA2ACreateRequirement(int, int, ncclLLA2AHandle_t*,
                                        ncclDevResourceRequirements_t*) {
  return unsupported("ncclLLA2ACreateRequirement", kWhy);
}

// The functions below return values, not results: they record the error and return an empty
// team or -1.
NCCL_API(int, ncclLLA2ACalcSlots, int maxElts, int maxEltSize);
int ncclLLA2ACalcSlots(int, int) {
  unsupported("ncclLLA2ACalcSlots", kWhy);
  return -1;
}

NCCL_API(ncclTeam_t, ncclTeamWorld, ncclComm_t comm);
ncclTeam_t ncclTeamWorld(ncclComm_t) {
  unsupported("ncclTeamWorld", kWhy);
  return ncclTeam_t{};
}

NCCL_API(ncclTeam_t, ncclTeamLsa, ncclComm_t comm);
ncclTeam_t ncclTeamLsa(ncclComm_t) {
  unsupported("ncclTeamLsa", kWhy);
  return ncclTeam_t{};
}

NCCL_API(ncclTeam_t, ncclTeamRail, ncclComm_t comm);
ncclTeam_t ncclTeamRail(ncclComm_t) {
  unsupported("ncclTeamRail", kWhy);
  return ncclTeam_t{};
}

NCCL_API(int, ncclTeamRankToWorld, ncclComm_t comm, ncclTeam_t team, int rank);
int ncclTeamRankToWorld(ncclComm_t, ncclTeam_t, int) {
  unsupported("ncclTeamRankToWorld", kWhy);
  return -1;
}

NCCL_API(int, ncclTeamRankToLsa, ncclComm_t comm, ncclTeam_t team, int rank);
int ncclTeamRankToLsa(ncclComm_t, ncclTeam_t, int) {
  unsupported("ncclTeamRankToLsa", kWhy);
  return -1;
}
