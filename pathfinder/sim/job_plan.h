// A job on identical nodes, modelled two ways: with the plan the path search finds (or a
// database holds) and with the NCCL baseline's plan, as nccl-tests bus bandwidth.
#pragma once

#include <optional>
#include <string>

#include "db/database.h"
#include "model/collective_time.h"
#include "model/node_plan.h"
#include "plan/nccl_baseline.h"
#include "search/path_search.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct JobSpec {
  int nodes = 1;
  Collective coll = Collective::kAllReduce;
  double bytes = 1 << 30;
  nccl::Release release = nccl::Release::k2_28;
  nccl::Knobs knobs;
  SearchOptions search;
};

// What a database built for `topo` would give a job on all its GPUs: the best ring (one
// node), or over every entry and exit hop the best chain (identical nodes; the first on ties,
// as chooseInterEntries picks).
NodePlan searchJobPlan(const topo::Topology& topo, const JobSpec& job);

// The database's plan for the job: its ring over all GPUs, or the chains chooseInterEntries
// picks for `job.nodes` nodes of this type (one NodePlan per distinct chosen entry).
std::optional<std::vector<NodePlan>> databaseJobPlans(const db::NodeType& node, int gpus,
                                                      const JobSpec& job, std::string* why);

std::string describeNodePlan(const NodePlan& plan);

struct PlanRate {
  double nodeGbps = 0;  // channels x the slowest transfer, all channels at once
  CollectiveTiming timing;
};
// The slowest of `plans` (one per node) sets the ring's rate; the slowest hop its latency.
PlanRate modelPlans(const topo::Topology& topo, const std::vector<NodePlan>& plans,
                    const JobSpec& job);

struct JobComparison {
  nccl::NodeBaseline baseline;
  NodePlan baselinePlan;
  std::vector<NodePlan> plans;
  PlanRate planRate, baselineRate;
  double ratio = 0;         // plan busbw / baseline busbw
  std::string unsupported;  // set when the baseline cannot be modelled
};
// The searched plan (searchJobPlan) against the baseline.
JobComparison compareJob(const topo::Topology& topo, const JobSpec& job);
// Given plans (from a database) against the baseline.
JobComparison compareJob(const topo::Topology& topo, const JobSpec& job,
                         std::vector<NodePlan> plans);

}  // namespace tccl::pathfinder
