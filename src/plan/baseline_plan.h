// The runtime's default plan when each node's topology is known: NCCL's own plan for the
// installed release (nccl_baseline.h). Every rank computes its node's baseline, publishes its
// place in it (BaselineSlot, allgathered), and all ranks join the slots into the same rings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/nccl_baseline.h"
#include "plan/plan.h"

namespace tccl {

inline constexpr int kMaxBaselineChannels = 32;

// Plain data: allgathered as bytes.
struct BaselineSlot {
  int32_t channels = 0;                        // 0: this rank's node has no baseline
  int8_t position[kMaxBaselineChannels] = {};  // the rank's place in its node's ring/chain c
  Hop send[kMaxBaselineChannels];              // the hop it sends on in channel c
};

// This rank's slot: it plays GPU `gpuIndex` of the node whose baseline is `b`. channels stays 0
// when the baseline has no channel through that GPU (or cannot be expressed).
BaselineSlot baselineSlotOf(const nccl::NodeBaseline& b, int gpuIndex);

// Rings from every rank's slot, node after node (nodes in shape order), as many channels as
// the node with the fewest; trees from channel 0's chains. nullopt with *whyNot when a rank has
// no slot or the slots do not fit together.
std::optional<Plan> buildBaselinePlan(const JobShape& shape, const std::vector<BaselineSlot>& slots,
                                      std::string* whyNot);

}  // namespace tccl
