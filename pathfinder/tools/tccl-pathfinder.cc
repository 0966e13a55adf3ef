// tccl-pathfinder: finds the best rings and chains of one node type and writes the path database.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <memory>

#include "calibration/calibration.h"
#include "db/db_json.h"
#include "measure/measured_flow.h"
#include "measure/measured_refine.h"
#include "model/model_profiler.h"
#include "search/database_builder.h"
#include "topo/topology.h"
#ifdef TCCL_HAVE_CUDA_PROFILER
#include "cuda_profiler.h"
#endif

namespace pf = tccl::pathfinder;

namespace {

constexpr int kMaxExhaustiveGpus = 4;

// --stand-in: the bandwidth model of another topology plays the machine being measured.
class StandInProfiler : public pf::ModelProfiler {
 public:
  explicit StandInProfiler(tccl::topo::Topology truth)
      : pf::ModelProfiler(truth), name_("stand-in model of " + truth.name) {}
  std::string name() const override { return name_; }

 private:
  std::string name_;
};
constexpr int kMaxGpus = 16;

// Compares the search's database with the exhaustive one, entry by entry (first channel alone).
int compareWithSearch(const tccl::topo::Topology& topo, pf::Profiler& profiler,
                      const pf::BuildOptions& options, const tccl::db::NodeType& exact) {
  pf::BuildOptions searchOptions = options;
  searchOptions.exhaustive = false;
  searchOptions.progress = false;
  tccl::db::Database found = pf::buildDatabase(topo, profiler, searchOptions, nullptr);
  const tccl::db::NodeType& node = found.nodes.front();
  int mismatches = 0, checked = 0;
  auto check = [&](const std::string& what, double search, double optimum) {
    ++checked;
    if (search + 1e-9 * optimum < optimum) {
      ++mismatches;
      std::printf("  MISMATCH %s: search %.3f GB/s, exhaustive optimum %.3f GB/s\n", what.c_str(),
                  search, optimum);
    }
  };
  auto name = [](const std::vector<int>& gpus) {
    std::string s;
    for (int g : gpus) s += (s.empty() ? "" : ",") + std::to_string(g);
    return "{" + s + "}";
  };
  for (size_t i = 0; i < exact.intra.size(); ++i)
    check("ring " + name(exact.intra[i].gpus), node.intra[i].channels.front().gbps,
          exact.intra[i].channels.front().gbps);
  for (size_t i = 0; i < exact.inter.size(); ++i)
    check("chain " + name(exact.inter[i].gpus) + " entry " +
              tccl::describeHop(exact.inter[i].entry) + " exit " +
              tccl::describeHop(exact.inter[i].exit),
          node.inter[i].channels.front().gbps, exact.inter[i].channels.front().gbps);
  std::printf("check: the search reaches the exhaustive optimum on %d of %d entries\n",
              checked - mismatches, checked);
  return mismatches;
}

// The measuring profiler named by --profiler; nullptr with a message when it cannot be had.
std::unique_ptr<pf::Profiler> makeProfiler(const std::string& kind,
                                           const tccl::topo::Topology& topo) {
  if (kind == "model") return std::make_unique<pf::ModelProfiler>(topo);
#ifdef TCCL_HAVE_CUDA_PROFILER
  std::string why;
  std::unique_ptr<pf::CudaProfiler> cuda = pf::CudaProfiler::create({}, &why);
  if (!cuda) std::fprintf(stderr, "tccl-pathfinder: --profiler cuda: %s\n", why.c_str());
  return cuda;
#else
  std::fprintf(stderr,
               "tccl-pathfinder: --profiler cuda: this build has no CUDA profiler (configure "
               "with CUDA to get one)\n");
  return nullptr;
#endif
}

int runCalibration(const tccl::topo::Topology& topo, const std::string& kind,
                   const std::string& source, const std::string& output) {
  std::unique_ptr<pf::Profiler> profiler = makeProfiler(kind, topo);
  if (!profiler) return 2;
  pf::CalibrationResult result = pf::calibrate(
      topo, *profiler, "the " + profiler->name() + " profiler (prior " + source + ")");
  size_t measured = 0, skipped = 0;
  for (const pf::ProbeResult& p : result.probes) {
    if (p.measured.empty()) {
      ++skipped;
      std::printf("  skipped probe %s: %s\n", p.probe.name.c_str(), p.skipped.c_str());
    } else {
      ++measured;
    }
  }
  std::printf("%s: %zu probes measured with profiler %s, %zu skipped; %zu parameters fitted\n",
              topo.name.c_str(), measured, profiler->name().c_str(), skipped,
              result.parameters.size());
  for (const pf::FittedParameter& fp : result.parameters)
    std::printf("  %-50s %9.4g -> %9.4g  (%d probes)\n", fp.name.c_str(), fp.before, fp.after,
                fp.probes);
  std::ofstream out(output);
  out << pf::topologyToJson(result.fitted);
  if (!out) {
    std::fprintf(stderr, "tccl-pathfinder: cannot write %s\n", output.c_str());
    return 2;
  }
  std::printf("wrote %s\n", output.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tccl-pathfinder: search the best rings and chains of a node, write the path database"};
  std::string topologyFile, output;
  bool live = false, exhaustive = false, quiet = false, singleChannel = false;
  int jobs = 1;
  size_t maxNodes = pf::SearchOptions{}.maxNodes;
  auto* source = app.add_option_group("source", "the node to search");
  source->add_option("--topology", topologyFile, "topology file (docs/topology-format.md)")
      ->check(CLI::ExistingFile);
  source->add_flag("--live", live, "discover this machine through hwloc");
  source->require_option(1);
  app.add_option("-o,--output", output, "write the path database (JSON) to this file");
  app.add_option("--jobs,-j", jobs, "search threads")->check(CLI::PositiveNumber);
  app.add_flag("--exhaustive", exhaustive,
               "enumerate every ring and hop assignment (nodes of up to 4 GPUs) and check the "
               "search against it");
  app.add_option("--max-nodes", maxNodes, "partial paths kept per search before it stops early");
  app.add_flag("--single-channel", singleChannel, "do not try a second concurrent channel");
  app.add_flag("-q,--quiet", quiet, "no progress display");
  std::string profilerKind = "model";
  int measureTop = 3;
  bool calibrate = false;
  app.add_option("--profiler", profilerKind,
                 "model: the bandwidth model alone; cuda: calibrate the model on this machine's "
                 "GPUs, search it, measure each entry's top candidates and keep the best "
                 "measured, and measure NCCL's plan beside the found one")
      ->check(CLI::IsMember({"model", "cuda"}))
      ->capture_default_str();
  app.add_option("--measure-top", measureTop,
                 "with --profiler cuda: candidates measured per database entry")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--calibrate", calibrate,
               "measure the probe sets (docs/bandwidth-model.md, Calibration) with --profiler and "
               "write the topology with fitted capacities and rule factors to -o");
  bool noCalibrate = false;
  std::string standIn, fittedOutput;
  app.add_flag("--no-calibrate", noCalibrate,
               "with a measuring profiler: search the topology as it is, without calibrating it "
               "on this machine first");
  app.add_option("--fitted", fittedOutput,
                 "with a measuring profiler: also write the calibrated topology to this file");
  app.add_option("--stand-in", standIn,
                 "measure with the bandwidth model of this topology file instead of GPUs (checks "
                 "the measured flow without a GPU)")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  tccl::topo::LoadedTopology loaded =
      live ? tccl::topo::discoverLiveTopology() : tccl::topo::loadTopologyFile(topologyFile);
  if (!loaded.topology) {
    std::fprintf(stderr, "tccl-pathfinder: %s\n", loaded.error.c_str());
    return 2;
  }
  const tccl::topo::Topology& topo = *loaded.topology;
  const int gpus = static_cast<int>(topo.gpus.size());
  if (gpus < 1) {
    std::fprintf(stderr, "tccl-pathfinder: %s (%s) has no GPUs; nothing to search\n",
                 topo.name.c_str(), tccl::describeSignature(tccl::topo::signatureOf(topo)).c_str());
    return 2;
  }
  if (gpus > kMaxGpus) {
    std::fprintf(stderr, "tccl-pathfinder: %d GPUs; at most %d are supported\n", gpus, kMaxGpus);
    return 2;
  }
  if (exhaustive && gpus > kMaxExhaustiveGpus) {
    std::fprintf(stderr,
                 "tccl-pathfinder: --exhaustive supports nodes of up to %d GPUs (%s has %d)\n",
                 kMaxExhaustiveGpus, topo.name.c_str(), gpus);
    return 2;
  }

  if (calibrate) {
    if (output.empty()) {
      std::fprintf(stderr, "tccl-pathfinder: --calibrate needs -o FITTED.json\n");
      return 2;
    }
    return runCalibration(topo, profilerKind, live ? "live" : topologyFile, output);
  }
  std::unique_ptr<pf::Profiler> measurer;
  if (!standIn.empty()) {
    tccl::topo::LoadedTopology truth = tccl::topo::loadTopologyFile(standIn);
    if (!truth.topology) {
      std::fprintf(stderr, "tccl-pathfinder: --stand-in: %s\n", truth.error.c_str());
      return 2;
    }
    measurer = std::make_unique<StandInProfiler>(*truth.topology);
  } else if (profilerKind != "model") {
    measurer = makeProfiler(profilerKind, topo);
    if (!measurer) return 2;
  }

  pf::BuildOptions options;
  options.jobs = jobs;
  options.exhaustive = exhaustive;
  options.progress = !quiet;
  options.search.maxNodes = maxNodes;
  options.search.multiChannel = !singleChannel && !exhaustive;
  options.topologyName = live ? "live" : topologyFile.substr(topologyFile.find_last_of('/') + 1);
  pf::BuildReport report;
  tccl::db::Database db;
  int status = 0;
  if (measurer) {
    // On a machine it can measure: calibrate, search the calibrated model, measure the top
    // candidates and NCCL's plan side by side.
    pf::MeasuredFlowOptions flow;
    flow.calibrate = !noCalibrate;
    flow.measureTop = measureTop;
    flow.build = options;
    flow.release = tccl::nccl::installedRelease();
    std::string error;
    if (!tccl::nccl::readKnobs([](const char* n) { return std::getenv(n); }, flow.release,
                               &flow.knobs, &error)) {
      std::fprintf(stderr, "tccl-pathfinder: %s\n", error.c_str());
      return 2;
    }
    pf::MeasuredFlowResult r = pf::runMeasuredFlow(
        topo, *measurer,
        "the " + measurer->name() + " profiler (prior " + options.topologyName + ")", flow);
    for (size_t i = 0; i < r.steps.size(); ++i)
      std::printf("step %zu/%zu %s\n", i + 1, r.steps.size(), r.steps[i].c_str());
    if (r.ratio > 0)
      std::printf("measured plan/baseline: %.2fx (%.2f GB/s database ring vs %.2f GB/s %s)\n",
                  r.ratio, r.plan.gbps, r.baseline.gbps, r.baseline.description.c_str());
    else
      std::printf("measured plan/baseline: not available (%s)\n",
                  !r.plan.measured ? r.plan.why.c_str() : r.baseline.why.c_str());
    if (!fittedOutput.empty() && r.calibration) {
      std::ofstream out(fittedOutput);
      out << pf::topologyToJson(r.calibration->fitted);
      if (!out) {
        std::fprintf(stderr, "tccl-pathfinder: cannot write %s\n", fittedOutput.c_str());
        return 2;
      }
      std::printf("wrote the calibrated topology to %s\n", fittedOutput.c_str());
    }
    db = std::move(r.db);
    report = r.build;
  } else {
    pf::ModelProfiler profiler(topo);
    db = pf::buildDatabase(topo, profiler, options, &report);
    if (exhaustive && compareWithSearch(topo, profiler, options, db.nodes.front()) > 0) status = 1;
  }

  std::printf("%s: %s, profiler %s%s\n", topo.name.c_str(),
              tccl::describeSignature(db.nodes.front().signature).c_str(),
              db.provenance.profiler.c_str(), exhaustive ? ", exhaustive" : "");
  std::printf(
      "rings: %zu subsets (%zu solved after symmetry); chains: %zu (%zu solved); "
      "%zu partial paths scored; %zu searches stopped at the node limit; %.3f s with "
      "%d job(s)\n",
      report.intraProblems, report.intraSolved, report.interProblems, report.interSolved,
      report.nodesScored, report.unproven, report.seconds, jobs);
  if (report.unproven > 0) {
    // Name them: their GB/s is the best found before the limit, not proven the best.
    std::vector<std::string> names;
    for (const tccl::db::IntraEntry& e : db.nodes.front().intra)
      if (!e.proven) names.push_back("ring " + tccl::db::listGpus(e.gpus, "{}"));
    for (const tccl::db::InterEntry& e : db.nodes.front().inter)
      if (!e.proven)
        names.push_back("chain " + tccl::db::listGpus(e.gpus, "{}") + " entry " +
                        tccl::describeHop(e.entry) + " exit " + tccl::describeHop(e.exit));
    std::printf("unproven entries (the search stopped at --max-nodes %zu): %zu\n", maxNodes,
                names.size());
    for (size_t i = 0; i < names.size() && i < 20; ++i) std::printf("  %s\n", names[i].c_str());
    if (names.size() > 20)
      std::printf("  ... and %zu more (tccl-db show marks them all)\n", names.size() - 20);
  }
  for (const tccl::db::IntraEntry& e : db.nodes.front().intra)
    if (static_cast<int>(e.gpus.size()) == gpus) {
      std::printf("all-GPU ring: %.2f GB/s with %zu channel(s)\n", e.gbps, e.channels.size());
      for (const tccl::db::Channel& ch : e.channels) {
        std::printf("  ");
        for (size_t i = 0; i < ch.order.size(); ++i)
          std::printf("%d -[%s]-> ", ch.order[i], tccl::describeHop(ch.hops[i]).c_str());
        std::printf("%d  (%.2f GB/s alone)\n", ch.order.front(), ch.gbps);
      }
    }

  if (!output.empty()) {
    std::ofstream out(output);
    out << tccl::db::toJsonText(db);
    if (!out) {
      std::fprintf(stderr, "tccl-pathfinder: cannot write %s\n", output.c_str());
      return 2;
    }
    std::printf("wrote %s\n", output.c_str());
  }
  return status;
}
