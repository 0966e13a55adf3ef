#include "model/node_plan.h"

namespace tccl::pathfinder {

std::vector<Transfer> channelTransfers(const db::Channel& ch, bool chained, const Hop& entry,
                                       const Hop& exit) {
  std::vector<Transfer> out;
  const int n = static_cast<int>(ch.order.size());
  if (chained) {
    out.push_back({entry, -1, ch.order.front()});
    for (int i = 0; i + 1 < n; ++i) out.push_back({ch.hops[i], ch.order[i], ch.order[i + 1]});
    out.push_back({exit, ch.order.back(), -1});
  } else if (n >= 2) {
    for (int i = 0; i < n; ++i) out.push_back({ch.hops[i], ch.order[i], ch.order[(i + 1) % n]});
  }
  return out;
}

std::vector<Transfer> planTransfers(const NodePlan& plan) {
  std::vector<Transfer> all;
  for (size_t c = 0; c < plan.channels.size(); ++c) {
    const bool own = c < plan.channelEntry.size() && c < plan.channelExit.size();
    std::vector<Transfer> t =
        channelTransfers(plan.channels[c], plan.chained, own ? plan.channelEntry[c] : plan.entry,
                         own ? plan.channelExit[c] : plan.exit);
    all.insert(all.end(), t.begin(), t.end());
  }
  return all;
}

double planGbps(Profiler& profiler, const NodePlan& plan) {
  std::vector<Transfer> all = planTransfers(plan);
  if (all.empty()) return 0;
  return static_cast<double>(plan.channels.size()) * profiler.bottleneck(all);
}

NodePlan baselineNodePlan(const nccl::NodeBaseline& baseline) {
  NodePlan plan;
  for (const nccl::ChannelBaseline& ch : baseline.channels) {
    plan.channels.push_back({ch.order, ch.hops, 0});
    plan.chained = ch.entry.kind == HopKind::kNet;
    plan.channelEntry.push_back(ch.entry);
    plan.channelExit.push_back(ch.exit);
  }
  if (plan.chained && !plan.channels.empty()) {
    plan.entry = plan.channelEntry.front();
    plan.exit = plan.channelExit.front();
  }
  return plan;
}

}  // namespace tccl::pathfinder
