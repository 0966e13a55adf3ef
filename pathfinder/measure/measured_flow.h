// The pathfinder on a machine it can measure (tccl-pathfinder --live --profiler cuda): calibrate
// the bandwidth model there first, search the calibrated model, measure each database entry's
// top candidates, and measure the NCCL baseline's plan beside the found one, so that the
// report is measured plan/baseline, not modelled.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calibration/calibration.h"
#include "db/database.h"
#include "measure/measured_refine.h"
#include "model/profiler.h"
#include "plan/nccl_baseline.h"
#include "search/database_builder.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct MeasuredFlowOptions {
  bool calibrate = true;  // false: --no-calibrate, search the prior topology as it is
  int measureTop = 3;
  BuildOptions build;
  nccl::Release release = nccl::Release::k2_28;
  nccl::Knobs knobs;
};

// One channel set measured with every transfer running: channels x the slowest rate.
struct MeasuredPlan {
  std::string description;
  double gbps = 0;
  bool measured = false;  // false when the profiler cannot run its transfers
  std::string why;
};

struct MeasuredFlowResult {
  std::vector<std::string> steps;  // what ran, in order, one line each
  std::optional<CalibrationResult> calibration;
  topo::Topology searched;  // the topology the search ran on (calibrated or prior)
  db::Database db;
  BuildReport build;
  MeasureReport refine;
  MeasuredPlan plan, baseline;  // the all-GPU ring of the database, NCCL's plan
  double ratio = 0;             // plan / baseline, measured; 0 when either is not
};

MeasuredFlowResult runMeasuredFlow(const topo::Topology& prior, Profiler& measurer,
                                   const std::string& profilerDescription,
                                   const MeasuredFlowOptions& options);

}  // namespace tccl::pathfinder
