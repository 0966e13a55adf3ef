// tccl-sim: the modelled time and bus bandwidth of a collective with the plan NCCL itself would
// build (the NCCL baseline of a release, with the user's NCCL_* knobs) and with the path
// database's plan (or, without --db, the plan the search finds), side by side.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "db/db_json.h"
#include "sim/job_plan.h"
#include "sim/sensitivity.h"
#include "topo/topology.h"

namespace pf = tccl::pathfinder;

namespace {

const tccl::db::NodeType* findNode(const tccl::db::Database& db, const tccl::topo::Topology& topo) {
  const tccl::NodeSignature sig = tccl::topo::signatureOf(topo);
  for (const tccl::db::NodeType& n : db.nodes)
    if (n.signature == sig) return &n;
  return tccl::db::findNodeType(db, topo.name);
}

std::string describePlans(const std::vector<pf::NodePlan>& plans) {
  std::string s;
  for (size_t i = 0; i < plans.size(); ++i)
    s += (i ? " || node " + std::to_string(i) + ": " : "") + pf::describeNodePlan(plans[i]);
  return s;
}

void printSensitivity(const pf::SensitivityReport& r) {
  std::printf("\nsensitivity: plan/baseline when each illustrative (or unlabelled) number moves\n");
  std::printf("  %-16s %-16s %-16s %s\n", "-30%", "+30%", "flipped", "values");
  int flagged = 0;
  for (const pf::SensitivityRow& row : r.rows) {
    std::string values;
    for (const std::string& v : row.values) values += (values.empty() ? "" : " ") + v;
    if (row.label == "unlabelled") values += " (unlabelled)";
    std::string cells[3];
    for (const pf::SensitivityCase& c : row.cases) {
      const int col = c.change.rfind("-30%", 0) == 0 ? 0 : c.change.rfind("+30%", 0) == 0 ? 1 : 2;
      char buf[64];
      if (c.applied)
        std::snprintf(buf, sizeof buf, "%.2fx%s%s", c.ratio, c.planChanged ? " plan" : "",
                      c.baselineChanged ? " nccl" : "");
      else
        std::snprintf(buf, sizeof buf, "(no move)");
      cells[col] = buf;
    }
    flagged += row.flagged;
    std::printf("%s %-16s %-16s %-16s %s\n", row.flagged ? "*" : " ",
                cells[0].empty() ? "-" : cells[0].c_str(),
                cells[1].empty() ? "-" : cells[1].c_str(),
                cells[2].empty() ? "-" : cells[2].c_str(), values.c_str());
  }
  std::printf(
      "plan/baseline %.2fx; %.2fx .. %.2fx over every move; %d of %zu rows (*) change the winning "
      "plan or move plan/baseline by more than 10%%\n",
      r.ratio, r.lowest, r.highest, flagged, r.rows.size());
  std::printf("(\"plan\": the search picks another plan; \"nccl\": NCCL's plan changes)\n");
  if (r.ratio > 1.0)
    std::printf(r.lowest > 1.0
                    ? "the win holds under every single move of an illustrative number\n"
                    : "the win rests on illustrative numbers: a single move erases it\n");
}

nlohmann::json sensitivityJson(const pf::SensitivityReport& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const pf::SensitivityRow& row : r.rows) {
    nlohmann::json cases = nlohmann::json::array();
    for (const pf::SensitivityCase& c : row.cases) {
      nlohmann::json j = {{"change", c.change}, {"applied", c.applied}};
      if (c.applied) {
        j["ratio"] = c.ratio;
        j["plan_changed"] = c.planChanged;
        j["baseline_changed"] = c.baselineChanged;
      }
      cases.push_back(j);
    }
    rows.push_back(
        {{"values", row.values}, {"label", row.label}, {"cases", cases}, {"flagged", row.flagged}});
  }
  return {{"ratio", r.ratio}, {"lowest", r.lowest}, {"highest", r.highest}, {"rows", rows}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tccl-sim: modelled collective time, NCCL's own plan (the baseline) vs the database plan"};
  std::string topologyFile, dbFile, collName, baselineName;
  int nodes = 1, jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  uint64_t bytes = 0;
  bool asJson = false, sensitivityWanted = false, verbose = false;
  app.add_option("--topology", topologyFile, "topology file")->required()->check(CLI::ExistingFile);
  app.add_option("--db", dbFile, "path database from tccl-pathfinder (default: search the plan)")
      ->check(CLI::ExistingFile);
  app.add_option("--nodes", nodes, "number of identical nodes")->check(CLI::Range(1, 4096));
  app.add_option("--coll", collName, "allreduce|allgather|reducescatter|broadcast|reduce")
      ->required()
      ->check(CLI::IsMember({"allreduce", "allgather", "reducescatter", "broadcast", "reduce"}));
  app.add_option("--bytes", bytes, "message size (nccl-tests 'size'); K/M/G suffixes allowed")
      ->required()
      ->transform(CLI::AsSizeValue(false));
  std::string note;
  const tccl::nccl::Release installed = tccl::nccl::installedRelease(&note);
  baselineName = std::string(tccl::nccl::releaseName(installed));
  app.add_option("--baseline", baselineName,
                 "NCCL release whose plan is the baseline: nccl-2.18 or nccl-2.28 (default: the "
                 "nccl.h TCCL was built with); NCCL_* knobs in the environment apply")
      ->capture_default_str();
  app.add_flag("--sensitivity", sensitivityWanted,
               "move every illustrative number by -30% and +30% and report what changes");
  app.add_option("--jobs,-j", jobs, "threads for --sensitivity")->check(CLI::PositiveNumber);
  app.add_flag("--json", asJson, "print one JSON object");
  app.add_flag("-v,--verbose", verbose, "say why the baseline is what it is");
  CLI11_PARSE(app, argc, argv);

  pf::JobSpec job;
  job.nodes = nodes;
  job.bytes = static_cast<double>(bytes);
  job.coll = *pf::parseCollective(collName);
  const std::optional<tccl::nccl::Release> release = tccl::nccl::parseRelease(baselineName);
  if (!release) {
    std::fprintf(stderr, "tccl-sim: --baseline %s: not a reproduced NCCL release (known: %s)\n",
                 baselineName.c_str(), std::string(tccl::nccl::releaseNames()).c_str());
    return 2;
  }
  job.release = *release;
  std::string error;
  if (!tccl::nccl::readKnobs([](const char* n) { return std::getenv(n); }, job.release, &job.knobs,
                             &error)) {
    std::fprintf(stderr, "tccl-sim: %s\n", error.c_str());
    return 2;
  }

  tccl::topo::LoadedTopology loaded = tccl::topo::loadTopologyFile(topologyFile);
  if (!loaded.topology) {
    std::fprintf(stderr, "tccl-sim: %s\n", loaded.error.c_str());
    return 2;
  }
  const tccl::topo::Topology& topo = *loaded.topology;
  const int gpus = static_cast<int>(topo.gpus.size());
  if (nodes > 1 && topo.nics.empty()) {
    std::fprintf(stderr, "tccl-sim: %s has no NIC, so it cannot be chained over %d nodes\n",
                 topo.name.c_str(), nodes);
    return 2;
  }
  if (nodes * gpus < 2) {
    std::fprintf(stderr, "tccl-sim: a collective needs at least 2 ranks\n");
    return 2;
  }

  std::vector<pf::NodePlan> plans;
  if (!dbFile.empty()) {
    tccl::db::LoadResult db = tccl::db::loadDatabaseFile(dbFile);
    if (!db.db) {
      std::fprintf(stderr, "tccl-sim: %s: %s\n", dbFile.c_str(), db.error.c_str());
      return 2;
    }
    const tccl::db::NodeType* node = findNode(*db.db, topo);
    if (!node) {
      std::fprintf(stderr, "tccl-sim: %s has no node type for topology %s (signature: %s)\n",
                   dbFile.c_str(), topo.name.c_str(),
                   tccl::describeSignature(tccl::topo::signatureOf(topo)).c_str());
      return 2;
    }
    std::string why;
    std::optional<std::vector<pf::NodePlan>> found = pf::databaseJobPlans(*node, gpus, job, &why);
    if (!found) {
      std::fprintf(stderr, "tccl-sim: %s: %s\n", dbFile.c_str(), why.c_str());
      return 2;
    }
    plans = std::move(*found);
  } else {
    plans = {pf::searchJobPlan(topo, job)};
  }
  const pf::JobComparison c = pf::compareJob(topo, job, plans);
  if (!c.unsupported.empty()) {
    std::fprintf(stderr, "tccl-sim: the %s baseline cannot be modelled here: %s\n",
                 baselineName.c_str(), c.unsupported.c_str());
    return 2;
  }
  std::optional<pf::SensitivityReport> sens;
  if (sensitivityWanted) sens = pf::sensitivity(topo, job, jobs);

  const pf::CollectiveTiming& d = c.baselineRate.timing;
  const pf::CollectiveTiming& p = c.planRate.timing;
  const std::string source = dbFile.empty() ? "search" : "database";
  const std::string knobs = tccl::nccl::describeKnobs(job.knobs);
  if (asJson) {
    nlohmann::json j = {{"topology", topo.name},
                        {"nodes", nodes},
                        {"ranks", nodes * gpus},
                        {"coll", collName},
                        {"bytes", bytes},
                        {"baseline", baselineName},
                        {"nccl_knobs", knobs},
                        {"baseline_channels", c.baselinePlan.channels.size()},
                        {"plan_source", source},
                        {"default_gbps", c.baselineRate.nodeGbps},
                        {"plan_gbps", c.planRate.nodeGbps},
                        {"default_time_s", d.seconds},
                        {"plan_time_s", p.seconds},
                        {"default_busbw", d.busbwGbps},
                        {"plan_busbw", p.busbwGbps},
                        {"ratio", c.ratio},
                        {"default_plan", pf::describeNodePlan(c.baselinePlan)},
                        {"plan", describePlans(c.plans)},
                        {"baseline_notes", c.baseline.notes}};
    if (!dbFile.empty()) j["db_plan"] = describePlans(c.plans);
    if (sens) j["sensitivity"] = sensitivityJson(*sens);
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("tccl-sim: %s, %d node(s) x %d GPUs = %d ranks, %s, %llu bytes (model)\n",
              topo.name.c_str(), nodes, gpus, nodes * gpus, collName.c_str(),
              static_cast<unsigned long long>(bytes));
  if (!note.empty()) std::printf("  note: %s\n", note.c_str());
  std::printf("  baseline %s%s: %zu channel(s)\n", baselineName.c_str(),
              knobs.empty() ? "" : (" with " + knobs).c_str(), c.baselinePlan.channels.size());
  if (verbose)
    for (const std::string& n : c.baseline.notes) std::printf("    %s\n", n.c_str());
  std::printf("  NCCL plan:  %s\n  %-10s  %s\n", tccl::nccl::describeBaseline(c.baseline).c_str(),
              (source + ":").c_str(), describePlans(c.plans).c_str());
  std::printf("%-22s %14s %14s %8s\n", "", baselineName.c_str(), source.c_str(), "ratio");
  std::printf("%-22s %14.2f %14.2f %8.2f\n", "node rate (GB/s)", c.baselineRate.nodeGbps,
              c.planRate.nodeGbps,
              c.baselineRate.nodeGbps > 0 ? c.planRate.nodeGbps / c.baselineRate.nodeGbps : 0);
  std::printf("%-22s %14.3f %14.3f %8.2f\n", "time (ms)", d.seconds * 1e3, p.seconds * 1e3,
              p.seconds > 0 ? d.seconds / p.seconds : 0);
  std::printf("%-22s %14.2f %14.2f %8.2f\n", "algbw (GB/s)", d.algbwGbps, p.algbwGbps,
              d.algbwGbps > 0 ? p.algbwGbps / d.algbwGbps : 0);
  std::printf("%-22s %14.2f %14.2f %8.2f\n", "busbw (GB/s)", d.busbwGbps, p.busbwGbps, c.ratio);
  if (sens) printSensitivity(*sens);
  return 0;
}
