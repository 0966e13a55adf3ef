// ncclCommSplit and ncclCommShrink: new communicators over a subset of a parent's ranks.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/comm_init.h"
#include "core/communicator.h"
#include "core/error.h"

namespace tccl {
namespace {
constexpr uint32_t kShrinkTag = 0x20000;

struct SplitEntry {
  int color;
  int key;
  int rank;
};

const ncclConfig_t* inherit(const ncclComm* parent, const ncclConfig_t* config) {
  return config ? config : &parent->config;
}
}  // namespace

ncclResult_t commSplit(ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
                       const ncclConfig_t* config) {
  TCCL_CHECK(checkConfig(config));
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
                      inherit(comm, config));
}

// Excluded ranks do not take part (they may be dead), so the id travels point to point from
// the lowest surviving rank.
ncclResult_t commShrink(ncclComm_t comm, const int* exclude, int nExclude, ncclComm_t* newcomm,
                        const ncclConfig_t* config) {
  TCCL_CHECK(checkConfig(config));
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
      TCCL_CHECK(comm->bootstrap->send(survivors[i], kShrinkTag, &id, sizeof(id)));
  } else {
    TCCL_CHECK(comm->bootstrap->recv(survivors.front(), kShrinkTag, &id, sizeof(id)));
  }
  const int newRank = static_cast<int>(std::find(survivors.begin(), survivors.end(), comm->rank) -
                                       survivors.begin());
  return commInitRank(newcomm, static_cast<int>(survivors.size()), id, newRank,
                      inherit(comm, config));
}

}  // namespace tccl
