// Applies a topology's named congestion rules to a set of concurrent transfers.
#pragma once

#include <span>

#include "model/transfer.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

// Multiplies factors[i] by the penalty of every rule that transfers[i] matches within the set.
void applyCongestionRules(const topo::Topology& topo, std::span<const Transfer> transfers,
                          std::span<double> factors);

}  // namespace tccl::pathfinder
