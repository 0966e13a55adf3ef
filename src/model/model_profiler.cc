#include "model/model_profiler.h"

namespace tccl::pathfinder {

// Routes and efficiencies ignore the engine; the only engine-aware rule (copy_engine_into_host)
// penalises the copy engine, so the kernel variant of a hop always does at least as well.
bool ModelProfiler::distinguishesEngines() const {
  return false;
}

}  // namespace tccl::pathfinder
