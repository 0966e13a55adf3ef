#include "measure/measured_flow.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "model/model_profiler.h"
#include "model/node_plan.h"

namespace tccl::pathfinder {
namespace {

MeasuredPlan measurePlan(Profiler& profiler, const NodePlan& plan, std::string description) {
  MeasuredPlan m;
  m.description = std::move(description);
  const std::vector<Transfer> all = planTransfers(plan);
  if (all.empty()) {
    m.why = "no transfers";
    return m;
  }
  try {
    const std::vector<double> rates = profiler.measure(all);
    m.gbps =
        static_cast<double>(plan.channels.size()) * *std::min_element(rates.begin(), rates.end());
    m.measured = true;
  } catch (const std::invalid_argument& e) {
    m.why = e.what();
  }
  return m;
}

std::string gbps(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GB/s", v);
  return buf;
}

}  // namespace

MeasuredFlowResult runMeasuredFlow(const topo::Topology& prior, Profiler& measurer,
                                   const std::string& profilerDescription,
                                   const MeasuredFlowOptions& options) {
  MeasuredFlowResult r;
  r.searched = prior;
  if (options.calibrate) {
    r.calibration = calibrate(prior, measurer, profilerDescription);
    r.searched = r.calibration->fitted;
    size_t measured = 0;
    for (const ProbeResult& p : r.calibration->probes) measured += !p.measured.empty();
    r.steps.push_back("calibrate: " + std::to_string(measured) + " probe set(s) measured with " +
                      measurer.name() + ", " + std::to_string(r.calibration->parameters.size()) +
                      " parameter(s) fitted");
  } else {
    r.steps.push_back("calibrate: skipped (--no-calibrate): the search uses the prior topology");
  }

  ModelProfiler model(r.searched);
  r.db = buildDatabase(r.searched, model, options.build, &r.build);
  r.steps.push_back("search: " + std::to_string(r.db.nodes.front().intra.size()) + " ring(s) and " +
                    std::to_string(r.db.nodes.front().inter.size()) + " chain(s) on the " +
                    (options.calibrate ? "calibrated" : "prior") + " model");

  measureTopCandidates(r.db, measurer, options.measureTop, &r.refine);
  r.steps.push_back("measure: top " + std::to_string(options.measureTop) + " candidate(s) of " +
                    std::to_string(r.refine.measured) + " of " + std::to_string(r.refine.entries) +
                    " entries with " + measurer.name());

  // The found all-GPU ring and NCCL's plan for one node, measured the same way.
  std::vector<int> all(r.searched.gpus.size());
  std::iota(all.begin(), all.end(), 0);
  NodePlan found;
  for (const db::IntraEntry& e : r.db.nodes.front().intra)
    if (e.gpus == all) found.channels = e.channels;
  r.plan = measurePlan(measurer, found, "database ring over all GPUs");
  const nccl::NodeBaseline b =
      nccl::buildNodeBaseline(r.searched, all, 1, options.release, options.knobs);
  if (b.unsupported.empty()) {
    r.baseline = measurePlan(
        measurer, baselineNodePlan(b),
        std::string(nccl::releaseName(options.release)) + ": " + nccl::describeBaseline(b));
  } else {
    r.baseline.why = b.unsupported;
  }
  if (r.plan.measured && r.baseline.measured && r.baseline.gbps > 0)
    r.ratio = r.plan.gbps / r.baseline.gbps;
  r.steps.push_back("compare: measured " + (r.plan.measured ? gbps(r.plan.gbps) : "-") +
                    " (database) vs " + (r.baseline.measured ? gbps(r.baseline.gbps) : "-") + " (" +
                    std::string(nccl::releaseName(options.release)) + ")");
  return r;
}

}  // namespace tccl::pathfinder
