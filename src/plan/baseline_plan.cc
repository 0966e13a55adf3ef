#include "plan/baseline_plan.h"

#include <algorithm>

#include "plan/tree_builder.h"

namespace tccl {
namespace {
constexpr int kMaxNumaNodes = 64;  // the database's bound too
}  // namespace

BaselineSlot baselineSlotOf(const nccl::NodeBaseline& b, int gpuIndex) {
  BaselineSlot slot;
  if (!b.unsupported.empty() || b.channels.empty()) return slot;
  const int channels = std::min(static_cast<int>(b.channels.size()), kMaxBaselineChannels);
  for (int c = 0; c < channels; ++c) {
    const nccl::ChannelBaseline& ch = b.channels[c];
    const auto it = std::find(ch.order.begin(), ch.order.end(), gpuIndex);
    if (it == ch.order.end()) return BaselineSlot{};
    const int pos = static_cast<int>(it - ch.order.begin());
    slot.position[c] = static_cast<int8_t>(pos);
    const bool chain = ch.entry.kind == HopKind::kNet;
    if (chain && pos + 1 == static_cast<int>(ch.order.size()))
      slot.send[c] = ch.exit;
    else if (pos < static_cast<int>(ch.hops.size()))
      slot.send[c] = ch.hops[pos];
  }
  slot.channels = channels;
  return slot;
}

std::optional<Plan> buildBaselinePlan(const JobShape& shape, const std::vector<BaselineSlot>& slots,
                                      std::string* whyNot) {
  if (static_cast<int>(slots.size()) != shape.nRanks) {
    *whyNot = "rank info and job shape disagree";
    return std::nullopt;
  }
  int channels = kMaxBaselineChannels;
  for (int r = 0; r < shape.nRanks; ++r) {
    if (slots[r].channels <= 0 || slots[r].channels > kMaxBaselineChannels) {
      *whyNot = "rank " + std::to_string(r) + " knows no NCCL plan for its node";
      return std::nullopt;
    }
    channels = std::min(channels, static_cast<int>(slots[r].channels));
  }
  Plan plan;
  plan.source = "default";
  std::vector<std::vector<int>> chains;
  for (int c = 0; c < channels; ++c) {
    Ring ring;
    for (const std::vector<int>& node : shape.nodeRanks) {
      std::vector<int> ordered(node.size(), -1);
      for (int r : node) {
        const int pos = slots[r].position[c];
        if (pos < 0 || pos >= static_cast<int>(node.size()) || ordered[pos] >= 0) {
          *whyNot = "the ranks of node " + std::to_string(shape.nodeOf[r]) +
                    " disagree on their places in channel " + std::to_string(c);
          return std::nullopt;
        }
        ordered[pos] = r;
      }
      if (c == 0) chains.push_back(ordered);
      for (int r : ordered) {
        const Hop& h = slots[r].send[c];
        if (hopKindName(h.kind) == "?" || h.numa < -1 || h.numa >= kMaxNumaNodes) {
          *whyNot = "rank " + std::to_string(r) + " sent a malformed hop for channel " +
                    std::to_string(c);
          return std::nullopt;
        }
        ring.order.push_back(r);
        ring.hops.push_back(slots[r].send[c]);
      }
    }
    plan.rings.push_back(std::move(ring));
  }
  plan.trees = db::buildTreesFromChains(chains, shape.nRanks);
  return plan;
}

}  // namespace tccl
