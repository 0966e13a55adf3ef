// Exhaustive enumeration of one channel: every ring (or chain) order and every assignment of
// candidate hops, scored concurrently. The true optimum the search is checked against;
// practical for nodes of up to 4 GPUs.
#pragma once

#include <span>

#include "model/profiler.h"
#include "search/candidates.h"
#include "search/path_search.h"

namespace tccl::pathfinder {

PathResult exhaustiveRing(Profiler& profiler, const Candidates& candidates,
                          std::span<const int> gpus);
// Every order of `gpus` (so every entry and exit GPU) with the given entry and exit hops.
PathResult exhaustiveChain(Profiler& profiler, const Candidates& candidates,
                           std::span<const int> gpus, const Hop& entry, const Hop& exit);

}  // namespace tccl::pathfinder
