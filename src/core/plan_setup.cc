#include "core/plan_setup.h"

#include <algorithm>

#include "core/communicator.h"
#include "core/error.h"
#include "core/log.h"

namespace tccl {

ncclResult_t setupPlan(ncclComm* comm) {
  comm->plan = buildDefaultPlan(comm->shape, static_cast<int>(comm->env.nChannels));
  return ncclSuccess;
}

void logPlan(const ncclComm* comm) {
  if (!logEnabled(LogLevel::kInfo, kLogTccl)) return;
  const int nch = static_cast<int>(comm->plan.rings.size());
  for (int c = 0; c < nch; ++c) {
    const Ring& ring = comm->plan.rings[c];
    const int n = static_cast<int>(ring.order.size());
    const int pos = static_cast<int>(std::find(ring.order.begin(), ring.order.end(), comm->rank) - ring.order.begin());
    const int prev = ring.order[(pos - 1 + n) % n], next = ring.order[(pos + 1) % n];
    INFO(kLogTccl, "Channel %02d/%02d : %d -> %d -> %d recv %s send %s [plan %s]", c, nch, prev,
         comm->rank, next, describeHop(ring.hops[(pos - 1 + n) % n]).c_str(),
         describeHop(ring.hops[pos]).c_str(), comm->plan.source.c_str());
  }
}

}  // namespace tccl
