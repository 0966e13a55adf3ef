// The `cuda` profiler: runs a set of transfers at the same instant on the real GPUs and
// reports each one's GB/s. Every transfer becomes one or two copy legs (a host bounce is a
// write into a buffer on NUMA node k by the source GPU plus a read from one by the target
// GPU, running together; its rate is the slower leg). All legs wait on one host flag, so
// they start together; each is timed with events on its own stream. A second pass sizes
// each leg to run for about the same time, so that no leg finishes early and leaves the
// others an emptier machine.
#pragma once

#include <memory>
#include <string>

#include "model/profiler.h"

namespace tccl::pathfinder {

struct CudaProfilerOptions {
  size_t bytesPerCopy = 16 << 20;  // one copy of a leg; legs repeat it
  int minCopies = 3;
  double targetSeconds = 0.05;  // duration of each leg in the measured pass
};

class CudaProfiler : public Profiler {
 public:
  // nullptr with *why when no CUDA device (or no hwloc topology) is usable.
  static std::unique_ptr<CudaProfiler> create(const CudaProfilerOptions& options, std::string* why);
  ~CudaProfiler() override;

  std::string name() const override { return "cuda"; }
  // Throws std::invalid_argument for a transfer it cannot run here (a GPU or NUMA node that
  // does not exist, a GPU-direct NIC leg: needs the NIC) and std::runtime_error on a CUDA
  // failure. A kernel p2p hop between GPUs without peer access measures 0 GB/s.
  std::vector<double> measure(std::span<const Transfer> transfers) override;

  int gpuCount() const;

 private:
  struct State;
  explicit CudaProfiler(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tccl::pathfinder
