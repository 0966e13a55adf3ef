#include "search/exhaustive.h"

#include <algorithm>
#include <vector>

namespace tccl::pathfinder {
namespace {

// Tries every hop assignment of one fixed order; slot i's candidates are lists[i].
void enumerateHops(Profiler& profiler, const std::vector<const std::vector<Hop>*>& lists,
                   const std::vector<std::pair<int, int>>& ends, double& bestScore,
                   std::vector<Transfer>& best, size_t& evaluated) {
  const size_t slots = lists.size();
  std::vector<size_t> pick(slots, 0);
  std::vector<Transfer> path(slots);
  for (size_t i = 0; i < slots; ++i) path[i] = {(*lists[i])[0], ends[i].first, ends[i].second};
  while (true) {
    double s = profiler.bottleneck(path);
    ++evaluated;
    if (s > bestScore * (1 + 1e-9) + 1e-12) {
      bestScore = s;
      best = path;
    }
    size_t i = slots;
    while (i > 0) {
      --i;
      if (++pick[i] < lists[i]->size()) {
        path[i].hop = (*lists[i])[pick[i]];
        break;
      }
      pick[i] = 0;
      path[i].hop = (*lists[i])[0];
      if (i == 0) return;
    }
    if (slots == 0) return;
  }
}

}  // namespace

PathResult exhaustiveRing(Profiler& profiler, const Candidates& candidates,
                          std::span<const int> gpus) {
  std::vector<int> order(gpus.begin(), gpus.end());
  std::sort(order.begin(), order.end());
  const int n = static_cast<int>(order.size());
  double bestScore = -1;
  std::vector<Transfer> best;
  size_t evaluated = 0;
  std::vector<const std::vector<Hop>*> lists(n, &candidates.intra);
  do {
    std::vector<std::pair<int, int>> ends;
    for (int i = 0; i < n; ++i) ends.emplace_back(order[i], order[(i + 1) % n]);
    enumerateHops(profiler, lists, ends, bestScore, best, evaluated);
  } while (std::next_permutation(order.begin() + 1, order.end()));

  PathResult r;
  db::Channel ch;
  for (const Transfer& t : best) {
    ch.order.push_back(t.src);
    ch.hops.push_back(t.hop);
  }
  ch.gbps = bestScore;
  r.channels.push_back(ch);
  r.gbps = r.singleGbps = bestScore;
  r.nodes = evaluated;
  return r;
}

PathResult exhaustiveChain(Profiler& profiler, const Candidates& candidates,
                           std::span<const int> gpus, const Hop& entry, const Hop& exit) {
  std::vector<int> order(gpus.begin(), gpus.end());
  std::sort(order.begin(), order.end());
  const std::vector<Hop> entryList{entry}, exitList{exit};
  double bestScore = -1;
  std::vector<Transfer> best;
  size_t evaluated = 0;
  do {
    std::vector<const std::vector<Hop>*> lists{&entryList};
    std::vector<std::pair<int, int>> ends{{-1, order.front()}};
    for (size_t i = 0; i + 1 < order.size(); ++i) {
      lists.push_back(&candidates.intra);
      ends.emplace_back(order[i], order[i + 1]);
    }
    lists.push_back(&exitList);
    ends.emplace_back(order.back(), -1);
    enumerateHops(profiler, lists, ends, bestScore, best, evaluated);
  } while (std::next_permutation(order.begin(), order.end()));

  PathResult r = chainResult(best, bestScore);
  r.nodes = evaluated;
  return r;
}

}  // namespace tccl::pathfinder
