// TCCL's own API: reading back a communicator's plan.
#include "tccl/tccl.h"

#include "api/api.h"
#include "base/error.h"
#include "core/communicator.h"
#include "tccl/version.h"

using namespace tccl;

extern "C" __attribute__((visibility("default"))) const char* tcclGetVersionString(void) try {
  return "TCCL " TCCL_VERSION_STRING;
}
TCCL_API_CATCH_RETURN("internal error")

extern "C" __attribute__((visibility("default"))) ncclResult_t tcclCommGetChannelCount(
    ncclComm_t comm, int* nChannels) try {
  TCCL_CHECK(checkComm(comm, "tcclCommGetChannelCount"));
  if (!nChannels)
    return setError(ncclInvalidArgument, "tcclCommGetChannelCount: nChannels is NULL");
  *nChannels = static_cast<int>(comm->plan.rings.size());
  return ncclSuccess;
}
TCCL_API_CATCH

extern "C" __attribute__((visibility("default"))) ncclResult_t tcclCommGetRing(
    ncclComm_t comm, int channel, tcclRing_t* out) try {
  TCCL_CHECK(checkComm(comm, "tcclCommGetRing"));
  if (!out) return setError(ncclInvalidArgument, "tcclCommGetRing: ring is NULL");
  if (channel < 0 || channel >= static_cast<int>(comm->plan.rings.size()))
    return setError(ncclInvalidArgument, "tcclCommGetRing: channel %d of %zu", channel,
                    comm->plan.rings.size());
  const Ring& ring = comm->plan.rings[channel];
  if (ring.order.size() > TCCL_MAX_PLAN_RANKS)
    return setError(ncclInvalidUsage, "tcclCommGetRing: %zu ranks exceed TCCL_MAX_PLAN_RANKS",
                    ring.order.size());
  out->nRanks = static_cast<int>(ring.order.size());
  for (size_t i = 0; i < ring.order.size(); ++i) {
    out->order[i] = ring.order[i];
    out->hops[i] = tcclHop_t{static_cast<tcclHopKind_t>(ring.hops[i].kind), ring.hops[i].numa,
                             ring.hops[i].nic};
  }
  return ncclSuccess;
}
TCCL_API_CATCH

extern "C" __attribute__((visibility("default"))) ncclResult_t tcclCommGetPlanSource(
    ncclComm_t comm, const char** source) try {
  TCCL_CHECK(checkComm(comm, "tcclCommGetPlanSource"));
  if (!source) return setError(ncclInvalidArgument, "tcclCommGetPlanSource: source is NULL");
  *source = comm->plan.source.c_str();
  return ncclSuccess;
}
TCCL_API_CATCH
