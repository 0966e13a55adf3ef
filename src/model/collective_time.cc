#include "model/collective_time.h"

#include <array>
#include <utility>

namespace tccl::pathfinder {
namespace {
constexpr std::array<std::pair<Collective, std::string_view>, 5> kNames{{
    {Collective::kAllReduce, "allreduce"},
    {Collective::kAllGather, "allgather"},
    {Collective::kReduceScatter, "reducescatter"},
    {Collective::kBroadcast, "broadcast"},
    {Collective::kReduce, "reduce"},
}};
}  // namespace

std::optional<Collective> parseCollective(std::string_view name) {
  for (auto& [c, n] : kNames)
    if (n == name) return c;
  return std::nullopt;
}

std::string_view collectiveName(Collective c) {
  for (auto& [k, n] : kNames)
    if (k == c) return n;
  return "?";
}

double busBwFactor(Collective c, int nRanks) {
  const double n = nRanks;
  switch (c) {
    case Collective::kAllReduce:
      return 2 * (n - 1) / n;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
      return (n - 1) / n;
    case Collective::kBroadcast:
    case Collective::kReduce:
      return 1;
  }
  return 1;
}

double hopLatencyUs(const Hop& hop) {
  switch (hop.kind) {
    case HopKind::kP2pWrite:
    case HopKind::kP2pRead:
      return 3;
    case HopKind::kHostBounce:
    case HopKind::kShm:
      return 6;
    case HopKind::kNet:
      return 10;
  }
  return 6;
}

CollectiveTiming ringCollectiveTime(Collective c, int nRanks, double bytes, double ringGbps,
                                    double stepLatencyUs) {
  CollectiveTiming t;
  if (nRanks < 2 || ringGbps <= 0 || bytes <= 0) return t;
  // Every rank's link carries busBwFactor x bytes; the ring takes this many latency steps.
  const double wire = busBwFactor(c, nRanks) * bytes;
  const int steps = c == Collective::kAllReduce ? 2 * (nRanks - 1) : nRanks - 1;
  t.seconds = wire / (ringGbps * 1e9) + steps * stepLatencyUs * 1e-6;
  t.algbwGbps = bytes / t.seconds / 1e9;
  t.busbwGbps = t.algbwGbps * busBwFactor(c, nRanks);
  return t;
}

}  // namespace tccl::pathfinder
