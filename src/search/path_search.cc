#include "search/path_search.h"

#include "model/node_plan.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <optional>
#include <queue>

namespace tccl::pathfinder {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kRelEps = 1e-9;
bool better(double a, double b) {
  return a > b * (1 + kRelEps) + 1e-12;
}
}  // namespace

struct PathSearch::Problem {
  std::vector<int> gpus;
  uint32_t all = 0;  // mask of gpus
  bool ring = true;
  int first = -1;                // ring: the fixed start (rotations are equivalent)
  Hop entry, exit;               // chain: the net hops into the first and out of the last GPU
  std::vector<double> exitRate;  // chain: the exit hop alone, per GPU
};

struct PathSearch::Node {
  int parent = -1;
  bool hasTransfer = false;
  Transfer t;
  int last = -1;  // the GPU the path ends at; -1 before a chain's entry
  uint32_t mask = 0;
  int depth = 0;
  double score = kInf;  // bottleneck of the path so far
  double bound = kInf;  // upper bound of every completion
  bool complete = false;
};

PathSearch::PathSearch(Profiler& profiler, const topo::Topology& topo, Candidates candidates,
                       SearchOptions options)
    : profiler_(profiler), cand_(std::move(candidates)), options_(options) {
  numGpus_ = static_cast<int>(topo.gpus.size());
  pairBest_.assign(numGpus_ * numGpus_, 0.0);
  for (int a = 0; a < numGpus_; ++a)
    for (int b = 0; b < numGpus_; ++b) {
      if (a == b) continue;
      for (const Hop& h : cand_.intra) {
        Transfer t{h, a, b};
        pairBest_[a * numGpus_ + b] =
            std::max(pairBest_[a * numGpus_ + b], profiler_.bottleneck({&t, 1}));
      }
    }
}

PathResult PathSearch::ring(std::span<const int> gpus) {
  Problem p;
  p.gpus.assign(gpus.begin(), gpus.end());
  std::sort(p.gpus.begin(), p.gpus.end());
  for (int g : p.gpus) p.all |= 1u << g;
  p.ring = true;
  p.first = p.gpus.front();
  PathResult r = solve(p);
  if (options_.multiChannel) addSecondChannel(p, r);
  return r;
}

PathResult PathSearch::chain(std::span<const int> gpus, const Hop& entry, const Hop& exit) {
  Problem p;
  p.gpus.assign(gpus.begin(), gpus.end());
  std::sort(p.gpus.begin(), p.gpus.end());
  for (int g : p.gpus) p.all |= 1u << g;
  p.ring = false;
  p.entry = entry;
  p.exit = exit;
  p.exitRate.assign(numGpus_, 0.0);
  for (int g : p.gpus) {
    Transfer t{exit, g, -1};
    p.exitRate[g] = profiler_.bottleneck({&t, 1});
  }
  PathResult r = solve(p);
  if (options_.multiChannel && p.gpus.size() >= 3) addSecondChannel(p, r);
  return r;
}

std::vector<Transfer> PathSearch::pathOf(const std::vector<Node>& nodes, int at,
                                         const Node* extra) const {
  std::vector<Transfer> path;
  if (extra && extra->hasTransfer) path.push_back(extra->t);
  for (int i = at; i >= 0; i = nodes[i].parent)
    if (nodes[i].hasTransfer) path.push_back(nodes[i].t);
  std::reverse(path.begin(), path.end());
  return path;
}

void PathSearch::children(const Problem& p, const std::vector<Node>& nodes, int at,
                          std::vector<Node>& out) {
  out.clear();
  const Node& n = nodes[at];
  auto make = [&](const Hop& hop, int src, int dst, int last, uint32_t mask, bool complete) {
    Node c;
    c.parent = at;
    c.hasTransfer = true;
    c.t = {hop, src, dst};
    c.last = last;
    c.mask = mask;
    c.depth = n.depth + 1;
    c.complete = complete;
    out.push_back(c);
  };
  if (!p.ring && n.last < 0) {
    for (int g : p.gpus) make(p.entry, -1, g, g, 1u << g, false);
  } else if (n.mask != p.all) {
    for (int v : p.gpus) {
      if (n.mask & (1u << v)) continue;
      for (const Hop& h : cand_.intra) make(h, n.last, v, v, n.mask | (1u << v), false);
    }
  } else if (p.ring) {
    for (const Hop& h : cand_.intra) make(h, n.last, p.first, n.last, n.mask, true);
  } else {
    make(p.exit, n.last, -1, n.last, n.mask, true);
  }
  // Score each child with its whole path running concurrently.
  std::vector<Transfer> path = pathOf(nodes, at, nullptr);
  path.emplace_back();
  for (Node& c : out) {
    path.back() = c.t;
    c.score = profiler_.bottleneck(path);
    c.bound = std::min(c.score, remainingBound(p, c));
  }
}

double PathSearch::remainingBound(const Problem& p, const Node& n) const {
  if (n.complete) return kInf;
  auto pair = [&](int a, int b) { return pairBest_[a * numGpus_ + b]; };
  const uint32_t rest = p.all & ~n.mask;
  double bound = kInf;
  if (p.ring) {
    if (!rest) return pair(n.last, p.first);
    // Every remaining GPU and the current end still send one hop and receive one hop.
    for (int u : p.gpus) {
      bool sender = (rest & (1u << u)) || u == n.last;
      bool receiver = (rest & (1u << u)) || u == p.first;
      if (sender) {
        double best = 0;
        for (int t : p.gpus)
          if (t != u && ((rest & (1u << t)) || (t == p.first && u != n.last)))
            best = std::max(best, pair(u, t));
        bound = std::min(bound, best);
      }
      if (receiver) {
        double best = 0;
        for (int s : p.gpus)
          if (s != u && ((rest & (1u << s)) || (s == n.last && u != p.first)))
            best = std::max(best, pair(s, u));
        bound = std::min(bound, best);
      }
    }
    return bound;
  }
  if (n.last < 0) return kInf;
  // The exit leaves from the current end or a GPU still to visit; each of those still
  // receives one hop.
  double exitBound = rest ? 0 : p.exitRate[n.last];
  for (int u : p.gpus) {
    if (!(rest & (1u << u))) continue;
    exitBound = std::max(exitBound, p.exitRate[u]);
    double in = 0;
    for (int s : p.gpus)
      if (s != u && ((rest & (1u << s)) || s == n.last)) in = std::max(in, pair(s, u));
    bound = std::min(bound, in);
  }
  return std::min(bound, exitBound);
}

PathResult PathSearch::solve(const Problem& p) {
  std::vector<Node> nodes;
  Node root;
  if (p.ring) {
    root.last = p.first;
    root.mask = 1u << p.first;
  }
  nodes.push_back(root);
  std::vector<Node> kids;

  // A greedy descent gives the first incumbent, so the best-first phase prunes from the start.
  std::vector<Transfer> best;
  double bestScore = -1;
  {
    std::vector<Node> greedy{root};
    int at = 0;
    while (!greedy[at].complete) {
      children(p, greedy, at, kids);
      auto pick = std::max_element(kids.begin(), kids.end(), [](const Node& a, const Node& b) {
        return better(b.bound, a.bound);
      });
      greedy.push_back(*pick);
      at = static_cast<int>(greedy.size()) - 1;
    }
    best = pathOf(greedy, at, nullptr);
    bestScore = greedy[at].score;
  }

  auto lower = [&](int a, int b) {  // priority: higher bound, then deeper, then older
    const Node &x = nodes[a], &y = nodes[b];
    if (x.bound != y.bound) return x.bound < y.bound;
    if (x.depth != y.depth) return x.depth < y.depth;
    return a > b;
  };
  std::priority_queue<int, std::vector<int>, decltype(lower)> open(lower);
  open.push(0);
  bool proven = true;
  size_t scored = 0;
  while (!open.empty()) {
    int at = open.top();
    open.pop();
    if (!better(nodes[at].bound, bestScore)) break;
    children(p, nodes, at, kids);
    scored += kids.size();
    for (const Node& c : kids) {
      if (c.complete) {
        if (better(c.score, bestScore)) {
          bestScore = c.score;
          best = pathOf(nodes, at, &c);
        }
      } else if (better(c.bound, bestScore)) {
        nodes.push_back(c);
        open.push(static_cast<int>(nodes.size()) - 1);
      }
    }
    if (nodes.size() >= options_.maxNodes) {
      proven = open.empty() || !better(nodes[open.top()].bound, bestScore);
      break;
    }
  }
  PathResult r = toResult(p, best, bestScore);
  r.proven = proven;
  r.nodes = scored;
  return r;
}

PathResult chainResult(const std::vector<Transfer>& path, double gbps) {
  PathResult r;
  db::Channel ch;
  r.entry = path.front().hop;
  r.exit = path.back().hop;
  ch.order.push_back(path.front().dst);
  for (size_t i = 1; i + 1 < path.size(); ++i) {
    ch.order.push_back(path[i].dst);
    ch.hops.push_back(path[i].hop);
  }
  ch.gbps = gbps;
  r.channels.push_back(ch);
  r.gbps = r.singleGbps = gbps;
  return r;
}

PathResult PathSearch::toResult(const Problem& p, const std::vector<Transfer>& path,
                                double gbps) const {
  if (!p.ring) return chainResult(path, gbps);
  PathResult r;
  db::Channel ch;
  ch.order.push_back(p.first);
  for (const Transfer& t : path) {
    if (t.dst != p.first) ch.order.push_back(t.dst);
    ch.hops.push_back(t.hop);
  }
  ch.gbps = gbps;
  r.channels.push_back(ch);
  r.gbps = r.singleGbps = gbps;
  return r;
}

// Tries a second channel next to the first one (the reverse ring, or the same order with other
// hops), with its hops chosen by depth-first branch and bound; keeps it when two channels
// together move more than one.
void PathSearch::addSecondChannel(const Problem& p, PathResult& r) {
  const db::Channel& first = r.channels.front();
  const std::vector<Transfer> base = channelTransfers(first, !p.ring, r.entry, r.exit);
  std::vector<std::vector<int>> orders{first.order};
  if (p.ring) {
    std::vector<int> rev{first.order.front()};
    rev.insert(rev.end(), first.order.rbegin(), first.order.rend() - 1);
    orders.insert(orders.begin(), rev);
  }
  double bestTotal = r.gbps;
  std::optional<db::Channel> bestSecond;
  size_t budget = options_.maxNodes;
  for (const std::vector<int>& order : orders) {
    const int n = static_cast<int>(order.size());
    const int slots = p.ring ? n : n - 1;
    std::vector<Transfer> all = base;
    if (!p.ring) all.push_back({r.entry, -1, order.front()});
    const size_t fixed = all.size();
    if (!p.ring) all.push_back({r.exit, order.back(), -1});
    std::vector<Hop> hops(slots);
    // Depth-first over hop slots, best-scoring candidates first.
    auto dfs = [&](auto&& self, int slot) -> void {
      if (budget == 0) return;
      --budget;
      if (slot == slots) {
        double total = 2 * profiler_.bottleneck(all);
        if (better(total, bestTotal)) {
          bestTotal = total;
          db::Channel ch;
          ch.order = order;
          ch.hops = hops;
          bestSecond = ch;
        }
        return;
      }
      std::vector<std::pair<double, int>> ranked;
      for (size_t c = 0; c < cand_.intra.size(); ++c) {
        all.insert(all.begin() + fixed + slot,
                   {cand_.intra[c], order[slot], order[(slot + 1) % n]});
        double s = 2 * profiler_.bottleneck(all);
        all.erase(all.begin() + fixed + slot);
        if (better(s, bestTotal)) ranked.emplace_back(-s, static_cast<int>(c));
      }
      std::stable_sort(ranked.begin(), ranked.end());
      for (auto& [negScore, c] : ranked) {
        if (!better(-negScore, bestTotal)) break;
        hops[slot] = cand_.intra[c];
        all.insert(all.begin() + fixed + slot,
                   {cand_.intra[c], order[slot], order[(slot + 1) % n]});
        self(self, slot + 1);
        all.erase(all.begin() + fixed + slot);
      }
    };
    dfs(dfs, 0);
  }
  if (!bestSecond) return;
  // Each channel's own rate when it runs alone, as the database records it.
  std::vector<Transfer> alone = channelTransfers(*bestSecond, !p.ring, r.entry, r.exit);
  bestSecond->gbps = profiler_.bottleneck(alone);
  r.channels.push_back(*bestSecond);
  r.gbps = bestTotal;
}

}  // namespace tccl::pathfinder
