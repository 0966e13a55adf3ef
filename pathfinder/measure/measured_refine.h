// Model-guided pruning for a measuring profiler: the search runs on the bandwidth model, then
// only the model's top candidates of every database entry are measured (each candidate's
// transfers all at once) and the entry keeps the best measured one, with measured GB/s.
#pragma once

#include <cstddef>

#include "db/database.h"
#include "model/profiler.h"

namespace tccl::pathfinder {

struct MeasureReport {
  size_t entries = 0;   // database entries visited
  size_t measured = 0;  // entries whose GB/s are now measured
  size_t unmeasurable =
      0;  // entries the profiler rejected (e.g. GPU-direct NIC legs): model GB/s kept
  size_t candidates = 0;  // candidate channel sets measured
  size_t changed = 0;     // entries where a lower-ranked candidate measured better
};

// The model's ranked candidates of an entry, best first: all its channels together, then
// (when it has several) its first channel alone. The search keeps only its best result, so
// these are what a top-K can draw from; `topK` caps the count.
std::vector<std::vector<db::Channel>> rankedCandidates(const std::vector<db::Channel>& channels,
                                                       int topK);

// Measures the top `topK` candidates of every entry of every node type with `profiler` and
// keeps the best measured one. Entries whose transfers the profiler rejects with
// std::invalid_argument keep the model's values and are counted as unmeasurable.
void measureTopCandidates(db::Database& db, Profiler& profiler, int topK, MeasureReport* report);

}  // namespace tccl::pathfinder
