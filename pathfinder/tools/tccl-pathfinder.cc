// tccl-pathfinder: finds the best rings and chains of one node type and writes the path database.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "db/db_json.h"
#include "model/model_profiler.h"
#include "search/database_builder.h"
#include "topo/topology.h"

namespace pf = tccl::pathfinder;

namespace {

constexpr int kMaxExhaustiveGpus = 4;
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

  pf::ModelProfiler profiler(topo);
  pf::BuildOptions options;
  options.jobs = jobs;
  options.exhaustive = exhaustive;
  options.progress = !quiet;
  options.search.maxNodes = maxNodes;
  options.search.multiChannel = !singleChannel && !exhaustive;
  options.topologyName = live ? "live" : topologyFile.substr(topologyFile.find_last_of('/') + 1);
  pf::BuildReport report;
  tccl::db::Database db = pf::buildDatabase(topo, profiler, options, &report);

  std::printf("%s: %s, %d GPUs, profiler %s%s\n", topo.name.c_str(),
              tccl::describeSignature(db.nodes.front().signature).c_str(), gpus,
              profiler.name().c_str(), exhaustive ? ", exhaustive" : "");
  std::printf(
      "rings: %zu subsets (%zu solved after symmetry); chains: %zu (%zu solved); "
      "%zu partial paths scored; %zu searches stopped at the node limit; %.3f s with "
      "%d job(s)\n",
      report.intraProblems, report.intraSolved, report.interProblems, report.interSolved,
      report.nodesScored, report.unproven, report.seconds, jobs);
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

  int status = 0;
  if (exhaustive && compareWithSearch(topo, profiler, options, db.nodes.front()) > 0) status = 1;

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
