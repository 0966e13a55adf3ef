// Modelled time and bus bandwidth of a ring collective (nccl-tests conventions).
#pragma once

#include <optional>
#include <string_view>

#include "plan/hop.h"

namespace tccl::pathfinder {

enum class Collective { kAllReduce, kAllGather, kReduceScatter, kBroadcast, kReduce };

std::optional<Collective> parseCollective(std::string_view name);
std::string_view collectiveName(Collective c);

// busbw = algbw x this: allreduce 2(n-1)/n, allgather/reducescatter (n-1)/n, broadcast/reduce 1.
double busBwFactor(Collective c, int nRanks);

// Per-step latency of a hop in microseconds (illustrative constants, docs/bandwidth-model.md).
double hopLatencyUs(const Hop& hop);

struct CollectiveTiming {
  double seconds = 0;
  double algbwGbps = 0;  // bytes / seconds
  double busbwGbps = 0;
};

// A pipelined ring over nRanks moving `bytes` (nccl-tests "size") at `ringGbps`, with
// `stepLatencyUs` per ring step.
CollectiveTiming ringCollectiveTime(Collective c, int nRanks, double bytes, double ringGbps,
                                    double stepLatencyUs);

}  // namespace tccl::pathfinder
