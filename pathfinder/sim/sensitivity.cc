#include "sim/sensitivity.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <thread>

namespace tccl::pathfinder {
namespace {

bool samePlan(const NodePlan& a, const NodePlan& b) {
  if (a.channels.size() != b.channels.size() || a.chained != b.chained) return false;
  for (size_t c = 0; c < a.channels.size(); ++c)
    if (a.channels[c].order != b.channels[c].order || a.channels[c].hops != b.channels[c].hops)
      return false;
  return !a.chained || (a.entry == b.entry && a.exit == b.exit &&
                        a.channelEntry == b.channelEntry && a.channelExit == b.channelExit);
}

// One change to try: which values, and how.
struct Move {
  size_t row = 0;
  std::vector<std::string> values;  // value names
  double scale = 1;                 // 0: flip the yes/no facts
};

// Applies a move to a copy of the topology; false when nothing could change.
bool apply(topo::Topology& t, const Move& m) {
  bool changed = false;
  for (topo::TopologyValue& v : topo::topologyValues(t)) {
    if (std::find(m.values.begin(), m.values.end(), v.name) == m.values.end()) continue;
    if (m.scale == 0) {
      if (v.flag) {
        *v.flag = !*v.flag;
        changed = true;
      }
      continue;
    }
    if (v.number) {
      const double before = *v.number;
      *v.number = v.fraction ? std::min(1.0, before * m.scale) : before * m.scale;
      changed |= *v.number != before;
    } else if (v.count) {
      const int before = *v.count;
      *v.count = std::max(2, static_cast<int>(std::lround(before * m.scale)));
      changed |= *v.count != before;
    }
  }
  return changed;
}

}  // namespace

SensitivityReport sensitivity(const topo::Topology& topo, const JobSpec& job, int jobs) {
  SensitivityReport report;
  const JobComparison base = compareJob(topo, job);
  report.ratio = report.lowest = report.highest = base.ratio;

  // Rows: every illustrative label, then every value no label covers.
  topo::Topology scratch = topo;
  std::vector<topo::TopologyValue> values = topo::topologyValues(scratch);
  std::vector<Move> moves;
  auto addRow = [&](std::vector<std::string> patterns, std::string why,
                    std::vector<std::string> names) {
    if (names.empty()) return;
    const size_t row = report.rows.size();
    report.rows.push_back({std::move(patterns), std::move(why), {}, false});
    bool flags = false, numbers = false;
    for (const topo::TopologyValue& v : values)
      if (std::find(names.begin(), names.end(), v.name) != names.end())
        (v.flag ? flags : numbers) = true;
    if (numbers) {
      moves.push_back({row, names, 0.7});
      moves.push_back({row, names, 1.3});
    }
    if (flags) moves.push_back({row, names, 0});
  };
  for (const topo::ValueLabel& l : topo.labels) {
    if (l.measured) continue;
    std::vector<std::string> names;
    for (const topo::TopologyValue& v : values)
      if (topo::labelOf(topo, v.name) == &l) names.push_back(v.name);
    addRow(l.values, l.text, names);
  }
  for (const topo::TopologyValue& v : values)
    if (!topo::labelOf(topo, v.name)) addRow({v.name}, "unlabelled", {v.name});

  std::vector<SensitivityCase> results(moves.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < moves.size(); i = next++) {
      const Move& m = moves[i];
      SensitivityCase& c = results[i];
      c.change = m.scale == 0 ? "flipped" : m.scale < 1 ? "-30%" : "+30%";
      topo::Topology t = topo;
      if (!apply(t, m)) {
        c.change += " (no change: at its limit)";
        continue;
      }
      const JobComparison r = compareJob(t, job);
      if (!r.unsupported.empty()) {
        c.change += " (baseline: " + r.unsupported + ")";
        continue;
      }
      c.applied = true;
      c.ratio = r.ratio;
      c.planChanged = !samePlan(r.plans.front(), base.plans.front());
      c.baselineChanged = !samePlan(r.baselinePlan, base.baselinePlan);
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int j = 1; j < std::max(1, jobs); ++j) pool.emplace_back(worker);
    worker();
  }
  for (size_t i = 0; i < moves.size(); ++i) {
    SensitivityRow& row = report.rows[moves[i].row];
    const SensitivityCase& c = results[i];
    row.cases.push_back(c);
    if (!c.applied) continue;
    report.lowest = std::min(report.lowest, c.ratio);
    report.highest = std::max(report.highest, c.ratio);
    if (c.planChanged || std::fabs(c.ratio / report.ratio - 1) > 0.10) row.flagged = true;
  }
  return report;
}

}  // namespace tccl::pathfinder
