// ncclCommSplit and ncclCommShrink: new communicators over a subset of a parent's ranks.
#include <algorithm>
#include <cstring>
#include <vector>

#include "base/bootstrap_tags.h"
#include "base/error.h"
#include "core/comm_config.h"
#include "core/comm_init.h"
#include "core/communicator.h"

namespace tccl {
namespace {

struct SplitEntry {
  int color;
  int key;
  int rank;
};

// Like NCCL: a NULL config inherits the parent's; a given one is read whole before the ranks
// talk, so that a bad one fails on its own rank before any collective step.
ncclResult_t childConfig(const ncclComm* parent, const ncclConfig_t* config, ncclConfig_t* out) {
  if (!config) {
    *out = parent->config;
    return ncclSuccess;
  }
  return parseCommConfig(config, out);
}
}  // namespace

ncclResult_t commSplit(ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
                       const ncclConfig_t* config) {
  ncclConfig_t child;
  TCCL_CHECK(childConfig(comm, config, &child));
  *newcomm = nullptr;
  std::vector<SplitEntry> all(comm->nranks);
  all[comm->rank] = {color, key, comm->rank};
  TCCL_CHECK(comm->bootstrap->allGather(all.data(), sizeof(SplitEntry)));
  std::vector<SplitEntry> members;
  for (const SplitEntry& e : all)
    if (e.color == color && color != NCCL_SPLIT_NOCOLOR) members.push_back(e);
  std::sort(members.begin(), members.end(), [](const SplitEntry& a, const SplitEntry& b) {
    return a.key != b.key ? a.key < b.key : a.rank < b.rank;
  });
  // The first member of each color creates the id; everybody contributes a slot to the allgather.
  std::vector<ncclUniqueId> ids(comm->nranks);
  const bool leader = !members.empty() && members.front().rank == comm->rank;
  if (leader)
    TCCL_CHECK(createUniqueId(&ids[comm->rank], static_cast<double>(comm->env.bootstrapTimeoutSec),
                              false));
  TCCL_CHECK(comm->bootstrap->allGather(ids.data(), sizeof(ncclUniqueId)));
  if (color == NCCL_SPLIT_NOCOLOR) return ncclSuccess;
  int newRank = 0;
  while (members[newRank].rank != comm->rank) ++newRank;
  return commInitRank(newcomm, static_cast<int>(members.size()), ids[members.front().rank], newRank,
                      &child);
}

// Excluded ranks do not take part (they may be dead), so the id travels point to point from
// the lowest surviving rank.
ncclResult_t commShrink(ncclComm_t comm, const int* exclude, int nExclude, ncclComm_t* newcomm,
                        const ncclConfig_t* config) {
  ncclConfig_t child;
  TCCL_CHECK(childConfig(comm, config, &child));
  *newcomm = nullptr;
  std::vector<bool> excluded(comm->nranks, false);
  for (int i = 0; i < nExclude; ++i) {
    if (exclude[i] < 0 || exclude[i] >= comm->nranks)
      return setError(ncclInvalidArgument, "ncclCommShrink: excluded rank %d is out of range",
                      exclude[i]);
    excluded[exclude[i]] = true;
  }
  if (excluded[comm->rank])
    return setError(ncclInvalidArgument, "ncclCommShrink: rank %d excludes itself", comm->rank);
  std::vector<int> survivors;
  for (int r = 0; r < comm->nranks; ++r)
    if (!excluded[r]) survivors.push_back(r);
  ncclUniqueId id;
  if (survivors.front() == comm->rank) {
    TCCL_CHECK(createUniqueId(&id, static_cast<double>(comm->env.bootstrapTimeoutSec), false));
    for (size_t i = 1; i < survivors.size(); ++i)
      TCCL_CHECK(comm->bootstrap->send(survivors[i], bootstrap_tags::kShrink, &id, sizeof(id)));
  } else {
    TCCL_CHECK(comm->bootstrap->recv(survivors.front(), bootstrap_tags::kShrink, &id, sizeof(id)));
  }
  const int newRank = static_cast<int>(std::find(survivors.begin(), survivors.end(), comm->rank) -
                                       survivors.begin());
  return commInitRank(newcomm, static_cast<int>(survivors.size()), id, newRank, &child);
}

}  // namespace tccl
