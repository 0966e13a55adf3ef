// The profiler interface: run a set of transfers at the same time, report each one's GB/s.
// Implementations: ModelProfiler (the bandwidth model) and, later, a CUDA profiler that
// launches the copies/kernels concurrently and times them with events.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/transfer.h"

namespace tccl::pathfinder {

class Profiler {
 public:
  virtual ~Profiler() = default;

  virtual std::string name() const = 0;  // "model", "cuda": written to the database provenance

  // Runs every transfer at once, each moving data continuously; returns GB/s per transfer,
  // in the order given.
  virtual std::vector<double> measure(std::span<const Transfer> transfers) = 0;

  // The rate of a pipeline (ring or chain) made of these transfers: every hop carries the
  // same bytes, so the slowest transfer sets it. Override when a cheaper way exists.
  virtual double bottleneck(std::span<const Transfer> transfers);

  // False when a hop's copy-engine variant never scores above its kernel variant, so the
  // search may keep only the kernel one (the exhaustive check still enumerates both).
  virtual bool distinguishesEngines() const { return true; }

  // True when measure/bottleneck may be called from several threads at once.
  virtual bool threadSafe() const { return false; }
};

}  // namespace tccl::pathfinder
