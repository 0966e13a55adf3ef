#include "plan/nccl_ring_search.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

namespace tccl::nccl {
namespace {

using NodeKind = System::NodeKind;

// Speeds the search tries, per compute capability (search.cc).
constexpr float kIntra[] = {40, 30, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3};
constexpr float kInter[] = {48, 30, 28, 24, 20, 18,   15,   12,    10,   9,
                            7,  6,  5,  4,  3,  2.4f, 1.2f, 0.24f, 0.12f};
constexpr float kIntra90v18[] = {60, 40, 30, 24, 20, 15, 12, 6, 3};
constexpr float kInter90v18[] = {48, 45, 42, 40, 30,   24,   20,    17.5f,
                                 15, 12, 6,  3,  2.4f, 1.2f, 0.24f, 0.12f};
constexpr float kIntra90[] = {60, 50, 40, 30, 24, 20, 15, 12, 11, 6, 3};
constexpr float kInter90[] = {48, 45, 42, 40, 30,   24,   22,    20,   17.5f,
                              15, 12, 6,  3,  2.4f, 1.2f, 0.24f, 0.12f};
constexpr float kIntra100[] = {90, 80, 70, 60, 50, 40, 30, 24, 20, 19, 18};
constexpr float kInter100[] = {96,    48, 45.1f, 42, 40, 30,   24,   22,    20,
                               17.5f, 15, 12,    6,  3,  2.4f, 1.2f, 0.24f, 0.12f};

constexpr int kSameChannelsTime = 1 << 8, kSearchTime = 1 << 14, kPciOrderTime = 1 << 10;

enum class Order { kSearch, kPci, kReplay };

// Both sides of a path endpoint: a GPU or a NIC port (or nothing: the search's start).
struct End {
  enum Kind { kNone, kGpu, kNet } kind = kNone;
  int index = -1;
};

struct Graph {
  int nChannels = 0;
  std::vector<int> intra;  // [channel * gpus + step]: GPU index
  std::vector<int> inter;  // [channel * 2 + 0|1]: NIC port index
  float bwIntra = 0, bwInter = 0;
  PathType typeIntra = PathType::kLoc, typeInter = PathType::kPix;
  bool sameChannels = true;
  int nHops = 0;
  int minChannels = 1, maxChannels = 16;
};

float subRound(float a, float b) {
  return std::round((a - b) * 1000) / 1000;  // search.cc's SUB_ROUND
}

class Searcher {
 public:
  explicit Searcher(System& sys)
      : sys_(sys),
        v18_(sys.release() == Release::k2_18),
        ngpus_(sys.gpuCount()),
        used_(ngpus_, 0),
        netBw_(sys.netCount()) {
    for (int n = 0; n < sys.netCount(); ++n) {
      const System::Node& net = sys.node(sys.netNode(n));
      netBw_[n] = sys.links()[net.links.front()].bw;
    }
  }

  RingGraph run();

 private:
  const System::Path& pathOf(End a, End b) const {
    if (a.kind == End::kGpu && b.kind == End::kGpu) return sys_.gpuToGpu(a.index, b.index);
    if (a.kind == End::kGpu) return sys_.gpuToNet(a.index, b.index);
    return sys_.netToGpu(a.index, b.index);
  }
  int followLinks(const System::Path& path, bool fromGpu, int steps, float bw);
  bool follow(Graph& g, End from, End to, int mult);
  int gpuPciBw(int gpu) const;
  std::vector<int> nextGpus(const Graph& g, int gpu, int sortNet) const;
  std::vector<int> selectNets(PathType typeInter, int gpu) const;
  bool better(const Graph& g, const Graph& ref) const;
  void recGpu(Graph& g, int gpu, int step, int backToNet, int backToFirst, Order order, int& time);
  void tryGpu(Graph& g, int step, int backToNet, int backToFirst, Order order, int& time, End from,
              int gpu);
  void recNet(Graph& g, int backToNet, int& time);
  void rec(Graph& g, int& time);
  void dupChannels(Graph& g) const;

  System& sys_;
  bool v18_;
  int ngpus_;
  std::vector<uint64_t> used_;
  std::vector<float> netBw_;
  Graph* save_ = nullptr;
};

int Searcher::followLinks(const System::Path& path, bool fromGpu, int steps, float bw) {
  std::vector<System::Link>& links = sys_.links();
  float pciBw = bw;
  // Intel root complexes make P2P through them costlier (INTEL_P2P_OVERHEAD).
  if (path.type == PathType::kPhb && fromGpu && sys_.cpu().vendor == CpuVendor::kIntel)
    for (int l : path.links)
      if (sys_.node(links[l].to).kind == NodeKind::kCpu) pciBw = bw * 6 / 5;
  for (int step = 0; step < steps; ++step) {
    System::Link& link = links[path.links[step]];
    const float fw = link.kind == System::LinkKind::kPci ? pciBw : bw;
    float rev = 0;
    const System::Node& rem = sys_.node(link.to);
    // Pre-Ampere GPUs receiving from a NIC also load their link in the other direction.
    if (rem.kind == NodeKind::kGpu && rem.cc < 80 && !fromGpu) rev = fw / 8;
    System::Link& back = links[sys_.reverseLink(path.links[step])];
    if (link.bw < fw || (rev != 0 && back.bw < rev)) return step;
    link.bw = subRound(link.bw, fw);
    if (rev != 0) back.bw = subRound(back.bw, rev);
  }
  return steps;
}

bool Searcher::follow(Graph& g, End from, End to, int mult) {
  if (from.kind == End::kNone) return true;
  const System::Path& path = pathOf(from, to);
  const int count = static_cast<int>(path.links.size());
  if (v18_ && count == 0) return true;
  const bool intra = from.kind == End::kGpu && to.kind == End::kGpu;
  const float bw = (intra ? g.bwIntra : g.bwInter) * mult;
  const PathType type = intra ? g.typeIntra : g.typeInter;
  if (mult == 1 && path.type > type) return false;
  if (!v18_ && path.type >= PathType::kDis) return false;
  const bool fromGpu = from.kind == End::kGpu;
  const int done = followLinks(path, fromGpu, count, bw);
  if (done < count) {
    followLinks(path, fromGpu, done, -bw);
    return false;
  }
  g.nHops += mult * count;
  return true;
}

int Searcher::gpuPciBw(int gpu) const {
  const int l = sys_.gpuPciLink(gpu);
  return static_cast<int>(std::min(sys_.links()[l].bw, sys_.links()[sys_.reverseLink(l)].bw));
}

std::vector<int> Searcher::nextGpus(const Graph& g, int gpu, int sortNet) const {
  struct Score {
    int g, start, intraHops, intraBw, interHops, interPciBw, interBw;
  };
  const uint64_t flag = 1ull << g.nChannels;
  std::vector<Score> scores;
  const int net = sortNet ? g.inter[g.nChannels * 2] : -1;
  for (int i = 1; i < ngpus_; ++i) {
    const int h = (gpu + i) % ngpus_;
    const System::Path& p = sys_.gpuToGpu(gpu, h);
    if (p.links.empty() || (used_[h] & flag)) continue;
    Score s{h, i, static_cast<int>(p.links.size()), static_cast<int>(p.bw), 0, 0, 0};
    if (net >= 0) {
      const System::Path& np = sys_.netToGpu(net, h);
      s.interHops = static_cast<int>(np.links.size());
      s.interPciBw = gpuPciBw(h);
      s.interBw = static_cast<int>(np.bw);
    }
    scores.push_back(s);
  }
  std::sort(scores.begin(), scores.end(), [](const Score& a, const Score& b) {
    if (a.interBw != b.interBw) return a.interBw > b.interBw;
    if (a.interPciBw != b.interPciBw) return a.interPciBw > b.interPciBw;
    if (a.interHops != b.interHops) return a.interHops < b.interHops;
    if (a.intraBw != b.intraBw) return a.intraBw > b.intraBw;
    if (a.intraHops != b.intraHops) return a.intraHops < b.intraHops;
    return a.start < b.start;
  });
  std::vector<int> out;
  for (const Score& s : scores) out.push_back(s.g);
  // Heading back to the NIC with no GPU better than another: try them in reverse.
  const bool allEqual = std::all_of(scores.begin(), scores.end(), [&](const Score& s) {
    return s.intraBw == scores[0].intraBw && s.intraHops == scores[0].intraHops;
  });
  if (sortNet == -1 && allEqual) std::reverse(out.begin(), out.end());
  return out;
}

std::vector<int> Searcher::selectNets(PathType typeInter, int gpu) const {
  std::vector<int> nets;
  for (int n = 0; n < sys_.netCount(); ++n) {
    if (!v18_) {  // 2.28 puts every GPU's preferred NIC first, whatever its distance
      nets.push_back(n);
      continue;
    }
    for (int g = 0; g < ngpus_; ++g)
      if ((gpu < 0 || g == gpu) && sys_.gpuToNet(g, n).type <= typeInter) {
        nets.push_back(n);
        break;
      }
  }
  return nets;
}

bool Searcher::better(const Graph& g, const Graph& ref) const {
  if (g.nChannels < g.minChannels) return false;
  const float mine = g.nChannels * g.bwIntra, theirs = ref.nChannels * ref.bwIntra;
  if (mine != theirs) return mine > theirs;
  return g.nHops < ref.nHops;
}

void Searcher::tryGpu(Graph& g, int step, int backToNet, int backToFirst, Order order, int& time,
                      End from, int gpu) {
  if (!follow(g, from, {End::kGpu, gpu}, 1)) return;
  const uint64_t flag = 1ull << g.nChannels;
  used_[gpu] ^= flag;
  recGpu(g, gpu, step, backToNet, backToFirst, order, time);
  used_[gpu] ^= flag;
  follow(g, from, {End::kGpu, gpu}, -1);
}

void Searcher::recGpu(Graph& g, int gpu, int step, int backToNet, int backToFirst, Order order,
                      int& time) {
  if (time <= 0) return;
  --time;
  if (step == ngpus_) {  // a channel is complete
    ++g.nChannels;
    if (better(g, *save_)) {
      *save_ = g;
      if (g.nChannels == g.maxChannels) time = -1;
    }
    if (g.nChannels < g.maxChannels) rec(g, time);
    --g.nChannels;
    return;
  }
  g.intra[g.nChannels * ngpus_ + step] = gpu;
  if (step == backToNet) {
    if (!sys_.inter()) return;
    for (int n : selectNets(g.typeInter, gpu)) {
      if (!follow(g, {End::kGpu, gpu}, {End::kNet, n}, 1)) continue;
      g.inter[g.nChannels * 2 + 1] = n;
      recGpu(g, gpu, step, -1, backToFirst, order, time);
      follow(g, {End::kGpu, gpu}, {End::kNet, n}, -1);
    }
  } else if (step < ngpus_ - 1) {
    std::vector<int> next;
    if (order == Order::kPci)
      next = {step + 1};
    else if (order == Order::kReplay)
      next = {g.intra[(g.nChannels - 1) * ngpus_ + step + 1]};
    else
      next = nextGpus(g, gpu, backToNet == -1 ? 0 : backToNet == step + 1 ? 1 : -1);
    for (int h : next)
      tryGpu(g, step + 1, backToNet, backToFirst, order, time, {End::kGpu, gpu}, h);
  } else if (step == backToFirst) {
    const int first = g.intra[g.nChannels * ngpus_];
    if (follow(g, {End::kGpu, gpu}, {End::kGpu, first}, 1)) {
      recGpu(g, first, step + 1, backToNet, -1, order, time);
      follow(g, {End::kGpu, gpu}, {End::kGpu, first}, -1);
    }
  } else {
    recGpu(g, gpu, ngpus_, -1, -1, order, time);
  }
}

void Searcher::recNet(Graph& g, int backToNet, int& time) {
  const int bw = static_cast<int>(g.bwInter);
  const std::vector<int> nets = selectNets(g.typeInter, -1);
  for (size_t i = 0; i < nets.size(); ++i) {
    const int n = v18_ ? nets[i] : nets[(g.nChannels + i) % nets.size()];
    if (netBw_[n] < bw) continue;
    g.inter[g.nChannels * 2] = n;
    netBw_[n] -= bw;
    const End net{End::kNet, n};
    const bool replay = g.nChannels > 0 && (v18_ || g.sameChannels);
    if (replay) {
      tryGpu(g, 0, backToNet, -1, Order::kReplay, time, net, g.intra[(g.nChannels - 1) * ngpus_]);
    }
    if (v18_ ? (g.nChannels == 0 || !g.sameChannels) : !replay) {
      if (g.nChannels == 0) {  // the PCI order first, on a budget of its own
        int t = kPciOrderTime;
        tryGpu(g, 0, backToNet, -1, Order::kPci, t, net, 0);
        if (t == -1) time = -1;
      }
      if (v18_) {
        // Then the GPUs nearest to the NIC, those whose PCIe link is still unused first.
        float maxBw = 0;
        size_t minHops = SIZE_MAX;
        for (int h = 0; h < ngpus_; ++h) {
          const System::Path& p = sys_.netToGpu(n, h);
          if (p.bw > maxBw) {
            maxBw = p.bw;
            minHops = p.links.size();
          } else if (p.bw == maxBw && p.links.size() < minHops) {
            minHops = p.links.size();
          }
        }
        if (maxBw >= bw)
          for (int bidir = 0; bidir < 2; ++bidir)
            for (int h = 0; h < ngpus_; ++h) {
              const System::Path& p = sys_.netToGpu(n, h);
              if (p.bw != maxBw || p.links.size() != minHops) continue;
              if (bidir == (gpuPciBw(h) > 0 ? 0 : 1))
                tryGpu(g, 0, backToNet, -1, Order::kSearch, time, net, h);
            }
      } else {
        const std::vector<int> local = sys_.localGpus(n);
        if (!local.empty()) tryGpu(g, 0, backToNet, -1, Order::kSearch, time, net, local[0]);
        if (local.empty()) continue;  // NCCL leaves the NIC's bandwidth taken here
        for (size_t k = 1; k < local.size(); ++k)
          tryGpu(g, 0, backToNet, -1, Order::kSearch, time, net, local[k]);
      }
    }
    netBw_[n] += bw;
  }
}

void Searcher::rec(Graph& g, int& time) {
  if (sys_.inter()) {
    recNet(g, ngpus_ - 1, time);
    return;
  }
  const int backToFirst = ngpus_ - 1;
  if (g.nChannels == 0)
    tryGpu(g, 0, -1, backToFirst, Order::kPci, time, {}, 0);
  else
    tryGpu(g, 0, -1, backToFirst, Order::kReplay, time, {}, g.intra[(g.nChannels - 1) * ngpus_]);
  if (!g.sameChannels || g.nChannels == 0)
    for (int h = 0; h < ngpus_; ++h) tryGpu(g, 0, -1, backToFirst, Order::kSearch, time, {}, h);
}

void Searcher::dupChannels(Graph& g) const {
  // More channels of the same rings when one is fast (search.cc / ncclTopoDupChannels).
  if (g.nChannels == 0 || g.bwIntra < 25) return;
  if (sys_.minCompCap() > 80 && g.bwIntra < 50 && g.nChannels > 4) return;
  const int dup = std::min(g.nChannels * 2, g.maxChannels);
  for (int c = g.nChannels; c < dup; ++c)
    for (int s = 0; s < ngpus_; ++s) {
      g.intra[c * ngpus_ + s] = g.intra[(c - g.nChannels) * ngpus_ + s];
      g.inter[c * 2] = g.inter[(c - g.nChannels) * 2];
      g.inter[c * 2 + 1] = g.inter[(c - g.nChannels) * 2 + 1];
    }
  const int factor = (dup + g.nChannels - 1) / g.nChannels;
  g.bwIntra /= factor;
  g.bwInter /= factor;
  g.nChannels = dup;
}

RingGraph Searcher::run() {
  const bool inter = sys_.inter();
  const int cc = sys_.minCompCap();
  using Speeds = std::span<const float>;
  Speeds speeds;
  if (v18_)
    speeds = inter ? (cc >= 90 ? Speeds(kInter90v18) : Speeds(kInter))
                   : (cc >= 90 ? Speeds(kIntra90v18) : Speeds(kIntra));
  else if (inter)
    speeds = cc >= 100 ? Speeds(kInter100) : cc >= 90 ? Speeds(kInter90) : Speeds(kInter);
  else
    speeds = cc >= 100 ? Speeds(kIntra100) : cc >= 90 ? Speeds(kIntra90) : Speeds(kIntra);
  const int nspeeds = static_cast<int>(speeds.size());

  // Path types the search widens through.
  PathType minIntra = ngpus_ == 1 ? PathType::kLoc : PathType::kNvl, maxIntra = PathType::kSys;
  PathType minInter = PathType::kPix, maxInter = PathType::kSys;
  if (!v18_) {
    minIntra = PathType::kLoc;
    auto range = [&](bool toNet, PathType* lo, PathType* hi) {
      PathType a = PathType::kSys, b = PathType::kLoc;
      for (int x = 0; x < ngpus_; ++x)
        for (int y = 0; y < (toNet ? sys_.netCount() : ngpus_); ++y) {
          if (!toNet && x == y) continue;
          const PathType t = toNet ? sys_.gpuToNet(x, y).type : sys_.gpuToGpu(x, y).type;
          a = std::min(a, t);
          b = std::max(b, t);
        }
      *lo = a;
      *hi = b;
    };
    if (ngpus_ > 1) range(false, &minIntra, &maxIntra);
    if (inter) {
      range(true, &minInter, &maxInter);
      maxIntra = maxInter;
    }
  }

  Graph graph;
  graph.maxChannels = v18_ ? 16 : 32;  // MAXCHANNELS / 2 (init.cc)
  graph.intra.assign(graph.maxChannels * ngpus_, 0);
  graph.inter.assign(graph.maxChannels * 2, 0);
  graph.typeIntra = minIntra;
  graph.typeInter = minInter;
  Graph tmp = graph;
  save_ = &graph;

  int pass = 1, speedIndex = 0;
  const float maxBw = sys_.maxBw(), totalBw = sys_.totalBw();
  while ((speeds[speedIndex] > maxBw || speeds[speedIndex] * tmp.minChannels > totalBw) &&
         speedIndex < nspeeds - 1)
    ++speedIndex;
  tmp.bwIntra = tmp.bwInter = speeds[speedIndex];
  int64_t globalTimeout = v18_ ? (5ll << 16) : (1ll << 19);
  const bool amdSys = sys_.cpu().vendor == CpuVendor::kAmd;

  for (;;) {
    // One search with the current settings.
    int time = tmp.sameChannels ? kSameChannelsTime : kSearchTime;
    tmp.nChannels = 0;
    globalTimeout -= time;
    rec(tmp, time);

    bool done = time == -1 || graph.nChannels * graph.bwInter >= totalBw;
    if (!done && pass == 1) {
      // Widen one setting at a time, then lower the speed.
      if (tmp.sameChannels && !(!v18_ && amdSys && tmp.typeIntra == PathType::kSys)) {
        tmp.sameChannels = false;
        continue;
      }
      tmp.sameChannels = true;
      if (time != -1)
        globalTimeout += time;
      else
        globalTimeout = v18_ ? (5ll << 16) : (1ll << 19);
      if (globalTimeout < 0 && graph.nChannels) {
        done = true;
      } else {
        const PathType intraLimit = inter ? tmp.typeInter : maxIntra;
        if (tmp.typeIntra < intraLimit &&
            (graph.nChannels == 0 || tmp.typeIntra < graph.typeIntra)) {
          tmp.typeIntra = widerPathType(tmp.typeIntra, sys_.release());
          if (tmp.typeIntra < PathType::kDis) continue;
        }
        tmp.typeIntra = minIntra;
        if (inter && tmp.typeInter < maxInter &&
            (graph.nChannels == 0 || tmp.typeInter < graph.typeInter ||
             tmp.typeInter < PathType::kPxn)) {
          tmp.typeInter = widerPathType(tmp.typeInter, sys_.release());
          if (tmp.typeInter < PathType::kDis) continue;
        }
        tmp.typeInter = minInter;
        if (speedIndex < nspeeds - 1 &&
            (graph.nChannels == 0 || speeds[speedIndex + 1] / graph.bwInter > .49)) {
          tmp.bwIntra = tmp.bwInter = speeds[++speedIndex];
          continue;
        }
        speedIndex = 0;
        while (speeds[speedIndex] > maxBw && speedIndex < nspeeds - 1) ++speedIndex;
        tmp.bwIntra = tmp.bwInter = speeds[speedIndex];
        done = true;
      }
    }
    if (!done && pass == 2) done = true;
    if (!done) continue;
    // A solution: from it, pass 2 (2.28: raise the speed of the rings while it still fits).
    if (pass == 1) {
      time = -1;
      if (!v18_) dupChannels(graph);
      tmp = graph;
      speedIndex = 0;
      while (speeds[speedIndex] > graph.bwInter && speedIndex < nspeeds - 1) ++speedIndex;
      tmp.bwIntra = tmp.bwInter = speeds[speedIndex];
      tmp.minChannels = graph.nChannels;
      pass = 2;
    }
    if (!v18_ && time != 0 && speedIndex > 0) {
      tmp.bwIntra = tmp.bwInter = speeds[--speedIndex];
      continue;
    }
    break;
  }

  RingGraph out;
  if (graph.nChannels == 0) {
    out.fallback = true;
    graph.nChannels = 1;
    for (int g = 0; g < ngpus_; ++g) graph.intra[g] = g;
    graph.bwIntra = graph.bwInter = 0.1f;
    graph.typeIntra = graph.typeInter = PathType::kSys;
  } else if (v18_) {
    dupChannels(graph);
  }
  out.nChannels = graph.nChannels;
  for (int c = 0; c < graph.nChannels; ++c) {
    out.rings.emplace_back(graph.intra.begin() + c * ngpus_,
                           graph.intra.begin() + (c + 1) * ngpus_);
    out.netIn.push_back(graph.inter[c * 2]);
    out.netOut.push_back(graph.inter[c * 2 + 1]);
  }
  out.bwIntra = graph.bwIntra;
  out.bwInter = graph.bwInter;
  out.typeIntra = graph.typeIntra;
  out.typeInter = graph.typeInter;
  out.sameChannels = graph.sameChannels;
  return out;
}

}  // namespace

RingGraph searchRings(System& system) {
  return Searcher(system).run();
}

}  // namespace tccl::nccl
