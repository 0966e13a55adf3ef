// tccl-sim --sensitivity: moves each illustrative number of a topology (and each one without
// a label) by -30% and +30% (flips yes/no facts), searches again and rebuilds the NCCL
// baseline, and reports which of them change the winning plan or move plan/baseline by more
// than 10%.
#pragma once

#include <string>
#include <vector>

#include "sim/job_plan.h"

namespace tccl::pathfinder {

struct SensitivityCase {
  std::string change;  // "-30%", "+30%", "flipped", or why it could not be moved
  bool applied = false;
  double ratio = 0;          // plan / baseline busbw after the change
  bool planChanged = false;  // the search's winning plan is another one
  bool baselineChanged = false;
};

struct SensitivityRow {
  std::vector<std::string> values;  // the label's value patterns, or the one unlabelled value
  std::string label;                // the label's reason, or "unlabelled"
  std::vector<SensitivityCase> cases;
  bool flagged = false;  // a case changes the plan or moves the ratio by more than 10%
};

struct SensitivityReport {
  double ratio = 0;  // unchanged topology
  std::vector<SensitivityRow> rows;
  // The lowest and highest ratio over every case: the win holds when the lowest is still > 1.
  double lowest = 0, highest = 0;
};

SensitivityReport sensitivity(const topo::Topology& topo, const JobSpec& job, int jobs);

}  // namespace tccl::pathfinder
