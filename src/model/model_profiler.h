// The `model` profiler: answers the profiler interface with the bandwidth model.
#pragma once

#include "model/bandwidth_model.h"
#include "model/profiler.h"

namespace tccl::pathfinder {

class ModelProfiler : public Profiler {
 public:
  explicit ModelProfiler(topo::Topology topo) : model_(std::move(topo)) {}

  std::string name() const override { return "model"; }
  std::vector<double> measure(std::span<const Transfer> transfers) override {
    return model_.rates(transfers);
  }
  double bottleneck(std::span<const Transfer> transfers) override {
    return model_.bottleneck(transfers);
  }
  bool distinguishesEngines() const override;
  bool threadSafe() const override { return true; }

  const BandwidthModel& model() const { return model_; }

 private:
  BandwidthModel model_;
};

}  // namespace tccl::pathfinder
