// tccl-pathfinder: finds the best rings and chains of one node type and writes the path database.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <memory>
#include <optional>

#include "calibration/calibration.h"
#include "db/db_json.h"
#include "measure/measured_flow.h"
#include "measure/measured_refine.h"
#include "model/model_profiler.h"
#include "search/database_builder.h"
#include "topo/topology.h"
#include "transport/net_plugin/net_plugin_loader.h"
#include "transport/net_plugin/net_plugin_nics.h"
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
  out << tccl::topo::topologyToJson(result.fitted);
  if (!out) {
    std::fprintf(stderr, "tccl-pathfinder: cannot write %s\n", output.c_str());
    return 2;
  }
  std::printf("wrote %s\n", output.c_str());
  return 0;
}

// The command line.
struct Options {
  std::string topologyFile, output;
  bool live = false, exhaustive = false, quiet = false, singleChannel = false;
  int jobs = 1;
  size_t maxNodes = pf::SearchOptions{}.maxNodes;
  std::string profilerKind = "model";
  int measureTop = 3;
  bool calibrate = false, noCalibrate = false;
  std::string standIn, fittedOutput;
};

void addOptions(CLI::App& app, Options& o) {
  auto* source = app.add_option_group("source", "the node to search");
  source->add_option("--topology", o.topologyFile, "topology file (docs/topology-format.md)")
      ->check(CLI::ExistingFile);
  source->add_flag("--live", o.live, "discover this machine through hwloc");
  source->require_option(1);
  app.add_option("-o,--output", o.output, "write the path database (JSON) to this file");
  app.add_option("--jobs,-j", o.jobs, "search threads")->check(CLI::PositiveNumber);
  app.add_flag("--exhaustive", o.exhaustive,
               "enumerate every ring and hop assignment (nodes of up to 4 GPUs) and check the "
               "search against it");
  app.add_option("--max-nodes", o.maxNodes, "partial paths kept per search before it stops early");
  app.add_flag("--single-channel", o.singleChannel, "do not try a second concurrent channel");
  app.add_flag("-q,--quiet", o.quiet, "no progress display");
  app.add_option("--profiler", o.profilerKind,
                 "model: the bandwidth model alone; cuda: calibrate the model on this machine's "
                 "GPUs, search it, measure each entry's top candidates and keep the best "
                 "measured, and measure NCCL's plan beside the found one")
      ->check(CLI::IsMember({"model", "cuda"}))
      ->capture_default_str();
  app.add_option("--measure-top", o.measureTop,
                 "with --profiler cuda: candidates measured per database entry")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--calibrate", o.calibrate,
               "measure the probe sets (docs/bandwidth-model.md, Calibration) with --profiler and "
               "write the topology with fitted capacities and rule factors to -o");
  app.add_flag("--no-calibrate", o.noCalibrate,
               "with a measuring profiler: search the topology as it is, without calibrating it "
               "on this machine first");
  app.add_option("--fitted", o.fittedOutput,
                 "with a measuring profiler: also write the calibrated topology to this file");
  app.add_option("--stand-in", o.standIn,
                 "measure with the bandwidth model of this topology file instead of GPUs (checks "
                 "the measured flow without a GPU)")
      ->check(CLI::ExistingFile);
}

// --live: the NICs of the net plugin that the runtime would load here (NCCL_NET_PLUGIN,
// NCCL_NET) are part of the node, as the runtime sees it; the mapping is printed. False, with a
// message, when NCCL_NET asks for a network that nothing provides.
bool addPluginNics(tccl::topo::Topology* topo) {
  tccl::NetworkChoice network;
  if (tccl::chooseNetwork(tccl::readNetPluginEnv(), &network) != ncclSuccess) {
    std::fprintf(stderr, "tccl-pathfinder: %s\n", tccl::lastThreadError().c_str());
    return false;
  }
  if (!network.plugin) return true;
  tccl::topo::PluginNicMerge merged = tccl::mergePluginNics(*network.plugin, *topo);
  std::printf("%s", tccl::pluginNicReport(*network.plugin, merged).c_str());
  *topo = std::move(merged.topology);
  return true;
}

// False, with a message, for a node the search does not take.
bool searchable(const tccl::topo::Topology& topo, const Options& o) {
  const int gpus = static_cast<int>(topo.gpus.size());
  if (gpus < 1) {
    std::fprintf(stderr, "tccl-pathfinder: %s (%s) has no GPUs; nothing to search\n",
                 topo.name.c_str(), tccl::describeSignature(tccl::topo::signatureOf(topo)).c_str());
    return false;
  }
  if (gpus > kMaxGpus) {
    std::fprintf(stderr, "tccl-pathfinder: %d GPUs; at most %d are supported\n", gpus, kMaxGpus);
    return false;
  }
  if (o.exhaustive && gpus > kMaxExhaustiveGpus) {
    std::fprintf(stderr,
                 "tccl-pathfinder: --exhaustive supports nodes of up to %d GPUs (%s has %d)\n",
                 kMaxExhaustiveGpus, topo.name.c_str(), gpus);
    return false;
  }
  return true;
}

// The profiler that measures candidates: none for the model alone. False, with a message,
// when the one asked for cannot be had.
bool makeMeasurer(const tccl::topo::Topology& topo, const Options& o,
                  std::unique_ptr<pf::Profiler>* measurer) {
  if (!o.standIn.empty()) {
    tccl::topo::LoadedTopology truth = tccl::topo::loadTopologyFile(o.standIn);
    if (!truth.topology) {
      std::fprintf(stderr, "tccl-pathfinder: --stand-in: %s\n", truth.error.c_str());
      return false;
    }
    *measurer = std::make_unique<StandInProfiler>(*truth.topology);
  } else if (o.profilerKind != "model") {
    *measurer = makeProfiler(o.profilerKind, topo);
    if (!*measurer) return false;
  }
  return true;
}

// On a machine it can measure: calibrate, search the calibrated model, measure the top
// candidates and NCCL's plan side by side. Returns the exit status on failure.
std::optional<int> runMeasured(const tccl::topo::Topology& topo, pf::Profiler& measurer,
                               const Options& o, const pf::BuildOptions& options,
                               tccl::db::Database* db, pf::BuildReport* report) {
  pf::MeasuredFlowOptions flow;
  flow.calibrate = !o.noCalibrate;
  flow.measureTop = o.measureTop;
  flow.build = options;
  flow.release = tccl::nccl::installedRelease();
  std::string error;
  if (!tccl::nccl::readKnobs([](const char* n) { return std::getenv(n); }, flow.release,
                             &flow.knobs, &error)) {
    std::fprintf(stderr, "tccl-pathfinder: %s\n", error.c_str());
    return 2;
  }
  pf::MeasuredFlowResult r = pf::runMeasuredFlow(
      topo, measurer, "the " + measurer.name() + " profiler (prior " + options.topologyName + ")",
      flow);
  for (size_t i = 0; i < r.steps.size(); ++i)
    std::printf("step %zu/%zu %s\n", i + 1, r.steps.size(), r.steps[i].c_str());
  if (r.ratio > 0)
    std::printf("measured plan/baseline: %.2fx (%.2f GB/s database ring vs %.2f GB/s %s)\n",
                r.ratio, r.plan.gbps, r.baseline.gbps, r.baseline.description.c_str());
  else
    std::printf("measured plan/baseline: not available (%s)\n",
                !r.plan.measured ? r.plan.why.c_str() : r.baseline.why.c_str());
  if (!o.fittedOutput.empty() && r.calibration) {
    std::ofstream out(o.fittedOutput);
    out << tccl::topo::topologyToJson(r.calibration->fitted);
    if (!out) {
      std::fprintf(stderr, "tccl-pathfinder: cannot write %s\n", o.fittedOutput.c_str());
      return 2;
    }
    std::printf("wrote the calibrated topology to %s\n", o.fittedOutput.c_str());
  }
  *db = std::move(r.db);
  *report = r.build;
  return std::nullopt;
}

void printSummary(const tccl::topo::Topology& topo, const Options& o, const tccl::db::Database& db,
                  const pf::BuildReport& report) {
  std::printf("%s: %s, profiler %s%s\n", topo.name.c_str(),
              tccl::describeSignature(db.nodes.front().signature).c_str(),
              db.provenance.profiler.c_str(), o.exhaustive ? ", exhaustive" : "");
  std::printf(
      "rings: %zu subsets (%zu solved after symmetry); chains: %zu (%zu solved); "
      "%zu partial paths scored; %zu searches stopped at the node limit; %.3f s with "
      "%d job(s)\n",
      report.intraProblems, report.intraSolved, report.interProblems, report.interSolved,
      report.nodesScored, report.unproven, report.seconds, o.jobs);
  if (report.unproven > 0) {
    // Name them: their GB/s is the best found before the limit, not proven the best.
    std::vector<std::string> names;
    for (const tccl::db::IntraEntry& e : db.nodes.front().intra)
      if (!e.proven) names.push_back("ring " + tccl::db::listGpus(e.gpus, "{}"));
    for (const tccl::db::InterEntry& e : db.nodes.front().inter)
      if (!e.proven)
        names.push_back("chain " + tccl::db::listGpus(e.gpus, "{}") + " entry " +
                        tccl::describeHop(e.entry) + " exit " + tccl::describeHop(e.exit));
    std::printf("unproven entries (the search stopped at --max-nodes %zu): %zu\n", o.maxNodes,
                names.size());
    for (size_t i = 0; i < names.size() && i < 20; ++i) std::printf("  %s\n", names[i].c_str());
    if (names.size() > 20)
      std::printf("  ... and %zu more (tccl-db show marks them all)\n", names.size() - 20);
  }
  for (const tccl::db::IntraEntry& e : db.nodes.front().intra)
    if (e.gpus.size() == topo.gpus.size()) {
      std::printf("all-GPU ring: %.2f GB/s with %zu channel(s)\n", e.gbps, e.channels.size());
      for (const tccl::db::Channel& ch : e.channels) {
        std::printf("  ");
        for (size_t i = 0; i < ch.order.size(); ++i)
          std::printf("%d -[%s]-> ", ch.order[i], tccl::describeHop(ch.hops[i]).c_str());
        std::printf("%d  (%.2f GB/s alone)\n", ch.order.front(), ch.gbps);
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tccl-pathfinder: search the best rings and chains of a node, write the path database"};
  Options o;
  addOptions(app, o);
  CLI11_PARSE(app, argc, argv);

  tccl::topo::LoadedTopology loaded =
      o.live ? tccl::topo::discoverLiveTopology() : tccl::topo::loadTopologyFile(o.topologyFile);
  if (!loaded.topology) {
    std::fprintf(stderr, "tccl-pathfinder: %s\n", loaded.error.c_str());
    return 2;
  }
  if (o.live && !addPluginNics(&*loaded.topology)) return 2;
  const tccl::topo::Topology& topo = *loaded.topology;
  if (!searchable(topo, o)) return 2;

  if (o.calibrate) {
    if (o.output.empty()) {
      std::fprintf(stderr, "tccl-pathfinder: --calibrate needs -o FITTED.json\n");
      return 2;
    }
    return runCalibration(topo, o.profilerKind, o.live ? "live" : o.topologyFile, o.output);
  }
  std::unique_ptr<pf::Profiler> measurer;
  if (!makeMeasurer(topo, o, &measurer)) return 2;

  pf::BuildOptions options;
  options.jobs = o.jobs;
  options.exhaustive = o.exhaustive;
  options.progress = !o.quiet;
  options.search.maxNodes = o.maxNodes;
  options.search.multiChannel = !o.singleChannel && !o.exhaustive;
  options.topologyName =
      o.live ? "live" : o.topologyFile.substr(o.topologyFile.find_last_of('/') + 1);
  pf::BuildReport report;
  tccl::db::Database db;
  int status = 0;
  if (measurer) {
    if (std::optional<int> failed = runMeasured(topo, *measurer, o, options, &db, &report))
      return *failed;
  } else {
    pf::ModelProfiler profiler(topo);
    db = pf::buildDatabase(topo, profiler, options, &report);
    if (o.exhaustive && compareWithSearch(topo, profiler, options, db.nodes.front()) > 0)
      status = 1;
  }
  printSummary(topo, o, db, report);

  if (!o.output.empty()) {
    std::ofstream out(o.output);
    out << tccl::db::toJsonText(db);
    if (!out) {
      std::fprintf(stderr, "tccl-pathfinder: cannot write %s\n", o.output.c_str());
      return 2;
    }
    std::printf("wrote %s\n", o.output.c_str());
  }
  return status;
}
