#include "sim/job_plan.h"

#include <algorithm>
#include <numeric>

#include "db/plan_from_db.h"
#include "model/model_profiler.h"
#include "search/candidates.h"
#include "search/database_builder.h"

namespace tccl::pathfinder {
namespace {

std::vector<int> allGpus(const topo::Topology& topo) {
  std::vector<int> g(topo.gpus.size());
  std::iota(g.begin(), g.end(), 0);
  return g;
}

}  // namespace

NodePlan searchJobPlan(const topo::Topology& topo, const JobSpec& job) {
  ModelProfiler profiler(topo);
  const Candidates candidates = enumerateCandidates(topo, profiler.distinguishesEngines());
  PathSearch search(profiler, topo, candidates, job.search);
  const std::vector<int> gpus = allGpus(topo);
  NodePlan plan;
  if (job.nodes <= 1) {
    plan.channels = search.ring(gpus).channels;
    return plan;
  }
  std::optional<PathResult> best;
  for (const Hop& entry : candidates.entry)
    for (const Hop& exit : candidates.exit) {
      PathResult r = search.chain(gpus, entry, exit);
      if (!best || r.gbps > best->gbps) best = std::move(r);
    }
  if (!best) return plan;
  plan.chained = true;
  plan.channels = best->channels;
  plan.entry = best->entry;
  plan.exit = best->exit;
  linkPeerSides(plan.entry, plan.exit);
  return plan;
}

std::optional<std::vector<NodePlan>> databaseJobPlans(const db::NodeType& node, int gpus,
                                                      const JobSpec& job, std::string* why) {
  std::vector<int> all(gpus);
  std::iota(all.begin(), all.end(), 0);
  if (job.nodes <= 1) {
    for (const db::IntraEntry& e : node.intra)
      if (e.gpus == all) return std::vector<NodePlan>{{e.channels, false, {}, {}, {}, {}}};
    *why = "the database has no intra-node ring over all " + std::to_string(gpus) + " GPUs";
    return std::nullopt;
  }
  const std::vector<const db::InterEntry*> chosen =
      db::chooseInterEntries(std::vector<const db::NodeType*>(job.nodes, &node),
                             std::vector<std::vector<int>>(job.nodes, all), nullptr, why);
  if (chosen.empty()) return std::nullopt;
  std::vector<NodePlan> plans;
  for (size_t n = 0; n < chosen.size(); ++n) {
    if (std::find(chosen.begin(), chosen.begin() + n, chosen[n]) != chosen.begin() + n) continue;
    plans.push_back({chosen[n]->channels, true, chosen[n]->entry, chosen[n]->exit, {}, {}});
  }
  return plans;
}

std::string describeNodePlan(const NodePlan& plan) {
  std::string s;
  for (size_t c = 0; c < plan.channels.size(); ++c) {
    const db::Channel& ch = plan.channels[c];
    const bool own = c < plan.channelEntry.size();
    const Hop& entry = own ? plan.channelEntry[c] : plan.entry;
    const Hop& exit = own ? plan.channelExit[c] : plan.exit;
    if (!s.empty()) s += " | ";
    if (plan.chained) {
      s += '[';
      s += describeHop(entry);
      s += "] ";
    }
    for (size_t i = 0; i < ch.order.size(); ++i) {
      s += std::to_string(ch.order[i]);
      if (i < ch.hops.size()) s += " -[" + describeHop(ch.hops[i]) + "]-> ";
    }
    if (plan.chained)
      s += " [" + describeHop(exit) + "]";
    else if (!ch.hops.empty())
      s += std::to_string(ch.order.front());
  }
  return s;
}

PlanRate modelPlans(const topo::Topology& topo, const std::vector<NodePlan>& plans,
                    const JobSpec& job) {
  ModelProfiler profiler(topo);
  PlanRate rate;
  double latency = 0;
  for (size_t i = 0; i < plans.size(); ++i) {
    const double gbps = planGbps(profiler, plans[i]);
    rate.nodeGbps = i == 0 ? gbps : std::min(rate.nodeGbps, gbps);
    for (const Transfer& t : planTransfers(plans[i]))
      latency = std::max(latency, hopLatencyUs(t.hop));
  }
  const int ranks = job.nodes * static_cast<int>(topo.gpus.size());
  rate.timing = ringCollectiveTime(job.coll, ranks, job.bytes, rate.nodeGbps, latency);
  return rate;
}

JobComparison compareJob(const topo::Topology& topo, const JobSpec& job,
                         std::vector<NodePlan> plans) {
  JobComparison c;
  c.baseline = nccl::buildNodeBaseline(topo, allGpus(topo), job.nodes, job.release, job.knobs);
  c.plans = std::move(plans);
  c.planRate = modelPlans(topo, c.plans, job);
  if (!c.baseline.unsupported.empty()) {
    c.unsupported = c.baseline.unsupported;
    return c;
  }
  c.baselinePlan = baselineNodePlan(c.baseline);
  c.baselineRate = modelPlans(topo, {c.baselinePlan}, job);
  const double base = c.baselineRate.timing.busbwGbps;
  c.ratio = base > 0 ? c.planRate.timing.busbwGbps / base : 0;
  return c;
}

JobComparison compareJob(const topo::Topology& topo, const JobSpec& job) {
  return compareJob(topo, job, {searchJobPlan(topo, job)});
}

}  // namespace tccl::pathfinder
