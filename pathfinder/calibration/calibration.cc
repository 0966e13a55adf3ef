#include "calibration/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <tuple>

#include "model/bandwidth_model.h"
#include "model/congestion_rules.h"

namespace tccl::pathfinder {
namespace {

using topo::RuleKind;
using topo::Topology;

Transfer p2p(int a, int b, HopKind kind) {
  Transfer t;
  t.src = a;
  t.dst = b;
  t.hop.kind = kind;
  return t;
}

Transfer bounce(int a, int b, int numa, Engine writer = Engine::kKernel) {
  Transfer t;
  t.src = a;
  t.dst = b;
  t.hop.kind = HopKind::kHostBounce;
  t.hop.numa = numa;
  t.hop.engine = writer;
  return t;
}

Transfer net(int src, int dst, int nic, bool gpuDirect, int numa) {
  Transfer t;
  t.src = src;
  t.dst = dst;
  t.hop.kind = HopKind::kNet;
  t.hop.nic = nic;
  t.hop.gpuDirect = gpuDirect;
  t.hop.numa = gpuDirect ? -1 : numa;
  return t;
}

bool apart(const Topology& topo, topo::RuleScope scope, int a, int b) {
  if (scope == topo::RuleScope::kSocket)
    return topo.numaNodes[a].socket != topo.numaNodes[b].socket;
  return a != b;
}

// Every double of the topology a rule parameter lives in, with its name.
struct RuleParam {
  std::string name;
  size_t rule = 0;
  int which = 0;  // 0: factor, 1: read_factor, 2: write_factor
};

std::vector<RuleParam> ruleParams(const Topology& topo) {
  std::vector<RuleParam> out;
  for (size_t i = 0; i < topo.congestionRules.size(); ++i) {
    std::string base = "congestion_rules[" + std::to_string(i) + "].";
    if (topo.congestionRules[i].kind == RuleKind::kRemoteHostAccess) {
      out.push_back({base + "read_factor", i, 1});
      out.push_back({base + "write_factor", i, 2});
    } else {
      out.push_back({base + "factor", i, 0});
    }
  }
  return out;
}

double& ruleValue(Topology& topo, const RuleParam& p) {
  topo::CongestionRule& r = topo.congestionRules[p.rule];
  return p.which == 0 ? r.factor : p.which == 1 ? r.readFactor : r.writeFactor;
}

void setAllRuleValues(Topology& topo, double v) {
  for (topo::CongestionRule& r : topo.congestionRules) r.factor = r.readFactor = r.writeFactor = v;
}

std::vector<double> ruleFactors(const Topology& topo, std::span<const Transfer> transfers) {
  std::vector<double> f(transfers.size(), 1.0);
  applyCongestionRules(topo, transfers, f);
  return f;
}

// Does the set match the rule parameter p (all other rule parameters neutral)?
bool matchesParam(const Topology& topo, const RuleParam& p, std::span<const Transfer> transfers) {
  Topology probe = topo;
  setAllRuleValues(probe, 1);
  ruleValue(probe, p) = 0.5;
  for (double f : ruleFactors(probe, transfers))
    if (f != 1) return true;
  return false;
}

// The capacity parameters of a topology, in BandwidthModel's resource order (one entry per
// resource; wire, fabric and socket links hold one number for both directions).
struct Capacities {
  std::vector<double*> ofResource;
  std::vector<std::string> nameOfResource;
};

Capacities capacities(Topology& t) {
  Capacities c;
  auto add = [&](double* v, std::string name) {
    c.ofResource.push_back(v);
    c.nameOfResource.push_back(std::move(name));
  };
  for (size_t g = 0; g < t.gpus.size(); ++g) {
    std::string p = "gpus[" + std::to_string(g) + "].";
    add(&t.gpus[g].upGbps, p + "up_gbps");
    add(&t.gpus[g].downGbps, p + "down_gbps");
  }
  for (size_t n = 0; n < t.nics.size(); ++n) {
    std::string p = "nics[" + std::to_string(n) + "].";
    add(&t.nics[n].upGbps, p + "up_gbps");
    add(&t.nics[n].downGbps, p + "down_gbps");
    add(&t.nics[n].wireGbps, p + "wire_gbps");
    add(&t.nics[n].wireGbps, p + "wire_gbps");
  }
  for (size_t i = 0; i < t.pcie.size(); ++i) {
    std::string p = "pcie[" + std::to_string(i) + "].";
    add(&t.pcie[i].upGbps, p + "up_gbps");
    add(&t.pcie[i].downGbps, p + "down_gbps");
  }
  for (size_t k = 0; k < t.numaNodes.size(); ++k) {
    std::string p = "numa_nodes[" + std::to_string(k) + "].";
    add(&t.numaNodes[k].memoryGbps, p + "memory_gbps");
    add(&t.numaNodes[k].fabricGbps, p + "fabric_gbps");
    add(&t.numaNodes[k].fabricGbps, p + "fabric_gbps");
  }
  for (size_t s = 0; s < t.sockets.size(); ++s) {
    add(&t.sockets[s].linkGbps, "sockets[" + std::to_string(s) + "].link_gbps");
    add(&t.sockets[s].linkGbps, "sockets[" + std::to_string(s) + "].link_gbps");
  }
  return c;
}

// A measured probe, precomputed for fast re-evaluation under changing parameters.
struct Prepared {
  const ProbeResult* result = nullptr;
  double bottleneck = 0;                  // lowest measured rate
  std::vector<double> efficiency;         // per transfer, rules excluded
  std::vector<std::vector<int>> crosses;  // per transfer: resource ids (with repetition)
  const std::vector<BandwidthModel::Resource>* resources = nullptr;  // what the ids name
};

double loadOf(const Prepared& p, int resource, double f) {
  return BandwidthModel::loadPerGbps((*p.resources)[resource], f);
}

// The model's bottleneck for the probe with the working topology's capacities and rules.
double predict(const Topology& fit, const Capacities& caps, const Prepared& p) {
  std::vector<double> f = ruleFactors(fit, p.result->probe.transfers);
  std::vector<double> load(caps.ofResource.size(), 0.0);
  for (size_t i = 0; i < f.size(); ++i) {
    double fi = f[i] * p.efficiency[i];
    if (fi <= 0) return 0;
    for (int r : p.crosses[i]) load[r] += loadOf(p, r, fi);
  }
  double rate = std::numeric_limits<double>::infinity();
  for (size_t r = 0; r < load.size(); ++r)
    if (load[r] > 0) rate = std::min(rate, *caps.ofResource[r] / load[r]);
  return rate;
}

// Loads per unit rate the probe puts on every resource with the working rule factors.
std::vector<double> loads(const Topology& fit, size_t nr, const Prepared& p) {
  std::vector<double> f = ruleFactors(fit, p.result->probe.transfers);
  std::vector<double> load(nr, 0.0);
  for (size_t i = 0; i < f.size(); ++i)
    for (int r : p.crosses[i]) load[r] += loadOf(p, r, f[i] * p.efficiency[i]);
  return load;
}

bool tight(double cap, double load, double rate) {
  return load > 0 && cap / load <= rate * (1 + 1e-9);
}

// Squared log error of every measured transfer's rate under the working topology.
double misfit(const Topology& fit, const std::vector<Prepared>& prepared) {
  const BandwidthModel model(fit);
  double sum = 0;
  for (const Prepared& p : prepared) {
    std::vector<double> got = model.rates(p.result->probe.transfers);
    for (size_t i = 0; i < got.size(); ++i) {
      const double want = p.result->measured[i];
      if (!(want > 0)) continue;
      const double e = got[i] > 0 ? std::log(got[i] / want) : 10;
      sum += e * e;
    }
  }
  return sum;
}

// Minimum of f over [a, b] by golden-section search: {argmin, min}.
template <typename F>
std::pair<double, double> goldenSection(F f, double a, double b, int iterations) {
  constexpr double kGolden = 0.6180339887498949;
  double c = b - kGolden * (b - a), d = a + kGolden * (b - a);
  double fc = f(c), fd = f(d);
  for (int it = 0; it < iterations; ++it) {
    if (fc <= fd) {
      b = d, d = c, fd = fc;
      c = b - kGolden * (b - a);
      fc = f(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + kGolden * (b - a);
      fd = f(d);
    }
  }
  return fc <= fd ? std::pair{c, fc} : std::pair{d, fd};
}

// Coordinate descent over `params` in log space (each step within 4x of the value, rule
// factors at most 1), each round followed by a line search along the round's overall move
// (a pattern move: coordinate descent alone crawls along the valleys that confounded
// parameters make). Runs while it improves.
void refineJointly(Topology& fit, const std::vector<Prepared>& prepared,
                   const std::vector<double*>& params, const std::vector<bool>& isFactor) {
  constexpr double kTolerance = 1e-12;  // misfit of a fit that reproduces the measurements
  const double kStep = std::log(4.0);
  double best = misfit(fit, prepared);
  auto logs = [&] {
    std::vector<double> x;
    for (double* v : params) x.push_back(std::log(*v));
    return x;
  };
  auto setLogs = [&](const std::vector<double>& x) {
    for (size_t k = 0; k < params.size(); ++k)
      *params[k] = std::exp(isFactor[k] ? std::min(x[k], 0.0) : x[k]);
  };
  for (int round = 0; round < 100 && best > kTolerance; ++round) {
    const double start = best;
    const std::vector<double> x0 = logs();
    for (size_t k = 0; k < params.size() && best > kTolerance; ++k) {
      double& v = *params[k];
      const double v0 = v, lo = std::log(v0) - kStep;
      const double hi = isFactor[k] ? 0.0 : std::log(v0) + kStep;
      if (lo >= hi) continue;
      auto [x, fx] = goldenSection(
          [&](double logx) {
            v = std::exp(logx);
            return misfit(fit, prepared);
          },
          lo, hi, 30);
      v = fx < best ? std::exp(x) : v0;
      best = std::min(best, fx);
    }
    const std::vector<double> x1 = logs();
    auto along = [&](double t) {
      std::vector<double> x(x1.size());
      for (size_t k = 0; k < x.size(); ++k) x[k] = x1[k] + t * (x1[k] - x0[k]);
      setLogs(x);
      return misfit(fit, prepared);
    };
    auto [t, ft] = goldenSection(along, 0.0, 8.0, 25);
    if (ft < best) {
      along(t);
      best = ft;
    } else {
      setLogs(x1);
    }
    if (best > start * (1 - 1e-9)) break;
  }
}

}  // namespace

bool matchesAnyRule(const Topology& topo, std::span<const Transfer> transfers) {
  Topology probe = topo;
  setAllRuleValues(probe, 0.5);
  for (double f : ruleFactors(probe, transfers))
    if (f != 1) return true;
  return false;
}

std::vector<Probe> calibrationProbes(const Topology& topo) {
  std::vector<Probe> out;
  const int n = static_cast<int>(topo.gpus.size());
  const int numas = static_cast<int>(topo.numaNodes.size());
  auto name = [](const Transfer& t) { return describeTransfer(t); };
  auto single = [&](const Transfer& t) { out.push_back({name(t), {t}}); };
  auto numaOf = [&](int g) { return topo.gpus[g].numa; };

  // 1. Single transfers of every kind.
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) {
      if (a == b) continue;
      if (topo.p2pSupported) {
        single(p2p(a, b, HopKind::kP2pWrite));
        single(p2p(a, b, HopKind::kP2pRead));
      }
      for (int k = 0; k < numas; ++k) single(bounce(a, b, k));
    }
  for (int c = 0; c < static_cast<int>(topo.nics.size()); ++c)
    for (int g = 0; g < n; ++g) {
      if (topo.nics[c].gpuDirect) {
        single(net(-1, g, c, true, -1));
        single(net(g, -1, c, true, -1));
      }
      for (int k = 0; k < numas; ++k) {
        single(net(-1, g, c, false, k));
        single(net(g, -1, c, false, k));
      }
    }

  // 2. Shared links: two bounces through each NUMA node (its memory), and every GPU below a
  // PCIe node with >= 2 GPUs sending out of it / receiving into it (its up and down links).
  if (n >= 2)
    for (int k = 0; k < numas; ++k) {
      std::vector<Transfer> set = n >= 4 ? std::vector{bounce(0, 1, k), bounce(2, 3, k)}
                                         : std::vector{bounce(0, 1, k), bounce(1, 0, k)};
      out.push_back({"two bounces through numa" + std::to_string(k), set});
    }
  for (size_t p = 0; p < topo.pcie.size(); ++p) {
    std::vector<int> below, outside;
    for (int g = 0; g < n; ++g) {
      std::vector<int> anc = topo::pcieAncestors(topo, topo.gpus[g].parent);
      (std::find(anc.begin(), anc.end(), static_cast<int>(p)) != anc.end() ? below : outside)
          .push_back(g);
    }
    if (below.size() < 2 || outside.empty()) continue;
    std::vector<Transfer> up, down;
    for (size_t i = 0; i < below.size(); ++i) {
      int o = outside[i % outside.size()];
      if (topo.p2pSupported) {
        up.push_back(p2p(below[i], o, HopKind::kP2pWrite));
        down.push_back(p2p(o, below[i], HopKind::kP2pWrite));
      } else {
        up.push_back(bounce(below[i], o, numaOf(o)));
        down.push_back(bounce(o, below[i], numaOf(below[i])));
      }
    }
    out.push_back({"all GPUs below pcie " + topo.pcie[p].id + " send out", up});
    out.push_back({"all GPUs below pcie " + topo.pcie[p].id + " receive", down});
  }

  // 3. A set that triggers each congestion rule.
  for (const topo::CongestionRule& rule : topo.congestionRules) {
    std::string rn = "rule " + std::string(topo::ruleKindName(rule.kind));
    switch (rule.kind) {
      case RuleKind::kHostReadWithRemoteP2pWrite:
        for (int a = 0; a < n; ++a)
          for (int b = 0; b < n; ++b) {
            if (a == b || numaOf(a) == numaOf(b)) continue;
            int c = b;  // the GPU that bounces into a: another one when there is one
            for (int g = 0; g < n; ++g)
              if (g != a && g != b) c = g;
            out.push_back({rn + " " + std::to_string(a) + "->" + std::to_string(b),
                           {p2p(a, b, HopKind::kP2pWrite), bounce(c, a, numaOf(a))}});
            a = n;  // one is enough
            break;
          }
        break;
      case RuleKind::kP2pAcrossNuma:
        for (int a = 0; a < n; ++a)
          for (int b = 0; b < n; ++b)
            if (a != b && apart(topo, rule.scope, numaOf(a), numaOf(b)))
              out.push_back({rn + " " + std::to_string(a) + "->" + std::to_string(b),
                             {p2p(a, b, HopKind::kP2pWrite)}});
        break;
      case RuleKind::kBounceBuffersOnOneNuma:
        if (n >= 2)
          for (int k = 0; k < numas; ++k) {
            std::vector<Transfer> set;
            for (int i = 0; i < rule.minTransfers; ++i)
              set.push_back(bounce(i % n, (i + 1) % n, k));
            out.push_back({rn + " numa" + std::to_string(k), set});
          }
        break;
      case RuleKind::kCopyEngineIntoHost:
        for (int a = 0; a < n && n >= 2; ++a)
          for (int k = 0; k < numas; ++k) {
            if (rule.remoteOnly && k == numaOf(a)) continue;
            Transfer t = bounce(a, (a + 1) % n, k, Engine::kCopyEngine);
            out.push_back({rn + " " + name(t), {t}});
          }
        break;
      case RuleKind::kRemoteHostAccess:
        // Covered by the single bounces and staged NIC transfers through remote NUMA nodes.
        break;
    }
  }
  return out;
}

namespace {

// ---- the phases of calibrate(), in order.

// What the phases share: the topology being fitted, its capacity parameters (by
// BandwidthModel resource) and rule parameters, and what each phase learnt about them.
struct Fit {
  Fit(const Topology& prior, Topology& fitted)
      : fit(fitted), routes(prior), caps(capacities(fitted)), nr(caps.ofResource.size()) {}
  Topology& fit;
  const BandwidthModel routes;  // the prepared probes point into it
  Capacities caps;
  const size_t nr;
  std::vector<Prepared> prepared;
  std::vector<double> before;  // each capacity as the prior has it
  // Set by rule-free probes, and by rule-matching probes only: how many bound each capacity.
  std::vector<bool> freeMask, ruleOnlyMask;
  std::vector<int> freeCount, ruleOnlyCount;
  std::vector<bool> exact;  // the only bottleneck of some rule-free probe
  std::vector<RuleParam> params;
  std::vector<double> ruleBefore;
  std::vector<int> ruleProbes;                         // probes that fixed each rule parameter
  std::vector<std::vector<const Prepared*>> matching;  // probes each rule parameter acts on
};

std::vector<ProbeResult> measureProbes(const Topology& prior, Profiler& profiler) {
  std::vector<ProbeResult> results;
  for (Probe& p : calibrationProbes(prior)) {
    ProbeResult r;
    r.probe = std::move(p);
    r.ruleFree = !matchesAnyRule(prior, r.probe.transfers);
    try {
      r.measured = profiler.measure(r.probe.transfers);
      if (r.measured.size() != r.probe.transfers.size())
        throw std::runtime_error("profiler " + profiler.name() + " returned " +
                                 std::to_string(r.measured.size()) + " rates for " +
                                 std::to_string(r.probe.transfers.size()) + " transfers");
    } catch (const std::invalid_argument& e) {
      r.measured.clear();
      r.skipped = e.what();
    }
    results.push_back(std::move(r));
  }
  return results;
}

void prepareProbes(Fit& s, const Topology& prior, const std::vector<ProbeResult>& probes) {
  Topology noRules = prior;
  noRules.congestionRules.clear();
  const BandwidthModel efficiency(noRules);
  for (const ProbeResult& r : probes) {
    if (r.measured.empty()) continue;
    Prepared p;
    p.result = &r;
    p.bottleneck = *std::min_element(r.measured.begin(), r.measured.end());
    if (!(p.bottleneck > 0)) continue;  // nothing to learn from a transfer that cannot run
    p.efficiency = efficiency.factors(r.probe.transfers);
    p.resources = &s.routes.resources();
    for (const Transfer& t : r.probe.transfers) p.crosses.push_back(s.routes.route(t));
    s.prepared.push_back(std::move(p));
  }
}

// Lower envelope of the loads a set of probes puts on each capacity parameter.
std::pair<std::vector<double>, std::vector<int>> envelope(const Fit& s, bool ruleFree) {
  std::vector<double> lb(s.nr, 0.0);
  std::vector<int> count(s.nr, 0);
  for (const Prepared& p : s.prepared) {
    if (p.result->ruleFree != ruleFree) continue;
    std::vector<double> load = loads(s.fit, s.nr, p);
    for (size_t r = 0; r < s.nr; ++r)
      if (load[r] > 0) {
        lb[r] = std::max(lb[r], p.bottleneck * load[r]);
        ++count[r];
      }
  }
  return {lb, count};
}

// Parameters are shared by two resources (wire, fabric, socket links): set per parameter.
void applyEnvelope(Fit& s, const std::vector<double>& lb, const std::vector<int>& count,
                   const std::vector<bool>& mask) {
  std::vector<std::pair<double*, double>> best;
  for (size_t r = 0; r < s.nr; ++r) {
    if (!mask[r] || count[r] == 0) continue;
    auto it = std::find_if(best.begin(), best.end(),
                           [&](const auto& b) { return b.first == s.caps.ofResource[r]; });
    if (it == best.end())
      best.push_back({s.caps.ofResource[r], lb[r]});
    else
      it->second = std::max(it->second, lb[r]);
  }
  for (auto& [ptr, v] : best) *ptr = v;
}

void fitRuleFreeCapacities(Fit& s) {
  const size_t nr = s.nr;
  s.before.resize(nr);
  for (size_t r = 0; r < nr; ++r) s.before[r] = *s.caps.ofResource[r];
  std::vector<double> freeLb;
  std::tie(freeLb, s.freeCount) = envelope(s, true);
  s.freeMask.assign(nr, false);
  s.ruleOnlyMask.assign(nr, false);
  for (size_t r = 0; r < nr; ++r) s.freeMask[r] = s.freeCount[r] > 0;
  applyEnvelope(s, freeLb, s.freeCount, s.freeMask);
  // Capacities that are the only bottleneck of some rule-free probe: exact from here on.
  s.exact.assign(nr, false);
  for (const Prepared& p : s.prepared) {
    if (!p.result->ruleFree) continue;
    std::vector<double> load = loads(s.fit, nr, p);
    std::vector<size_t> tightOnes;
    for (size_t r = 0; r < nr; ++r)
      if (tight(*s.caps.ofResource[r], load[r], p.bottleneck)) tightOnes.push_back(r);
    bool onlyOne =
        !tightOnes.empty() && std::all_of(tightOnes.begin(), tightOnes.end(), [&](size_t r) {
          return s.caps.ofResource[r] == s.caps.ofResource[tightOnes.front()];
        });
    if (onlyOne)
      for (size_t r : tightOnes) s.exact[r] = true;
  }
}

void findRuleProbes(Fit& s) {
  s.params = ruleParams(s.fit);
  s.ruleProbes.assign(s.params.size(), 0);
  for (const RuleParam& p : s.params) s.ruleBefore.push_back(ruleValue(s.fit, p));
  s.matching.resize(s.params.size());
  for (size_t i = 0; i < s.params.size(); ++i)
    for (const Prepared& p : s.prepared)
      if (matchesParam(s.fit, s.params[i], p.result->probe.transfers)) s.matching[i].push_back(&p);
}

// Each rule factor by bisection, so that the model reproduces each of its probes.
void solveRuleFactors(Fit& s) {
  for (size_t i = 0; i < s.params.size(); ++i) {
    std::vector<double> solutions;
    double& v = ruleValue(s.fit, s.params[i]);
    const double saved = v;
    for (const Prepared* p : s.matching[i]) {
      auto at = [&](double x) {
        v = x;
        return predict(s.fit, s.caps, *p);
      };
      double lo = 1e-3, hi = 1;
      if (at(hi) <= p->bottleneck) {
        solutions.push_back(hi);
      } else if (at(lo) >= p->bottleneck) {
        solutions.push_back(lo);
      } else {
        for (int it = 0; it < 60; ++it) {
          double mid = 0.5 * (lo + hi);
          (at(mid) < p->bottleneck ? lo : hi) = mid;
        }
        solutions.push_back(0.5 * (lo + hi));
      }
    }
    // Capacities are exact or low (never high), and a low one only makes a probe ask for a
    // milder penalty: the smallest solution is the least confounded.
    v = solutions.empty() ? saved : *std::min_element(solutions.begin(), solutions.end());
    s.ruleProbes[i] = static_cast<int>(solutions.size());
  }
}

// A rule probe still predicted slower than measured is held back by a capacity that is
// only a lower bound: raise it, unless a rule-free probe depends on it alone.
void raiseHeldBackCapacities(Fit& s) {
  const size_t nr = s.nr;
  for (const Prepared& p : s.prepared) {
    if (p.result->ruleFree) continue;
    if (predict(s.fit, s.caps, p) >= p.bottleneck * (1 - 1e-9)) continue;
    std::vector<double> load = loads(s.fit, nr, p);
    for (size_t r = 0; r < nr; ++r) {
      double* param = s.caps.ofResource[r];
      if (!tight(*param, load[r], predict(s.fit, s.caps, p))) continue;
      bool raisable = true;
      for (const Prepared& q : s.prepared) {
        if (!q.result->ruleFree || !raisable) continue;
        std::vector<double> ql = loads(s.fit, nr, q);
        bool mine = false, other = false;
        for (size_t t = 0; t < nr; ++t) {
          if (!tight(*s.caps.ofResource[t], ql[t], q.bottleneck)) continue;
          (s.caps.ofResource[t] == param ? mine : other) = true;
        }
        if (mine && !other) raisable = false;
      }
      if (raisable) *param = std::max(*param, p.bottleneck * load[r]);
    }
  }
}

// Capacities crossed only by rule-matching probes, and the rule factors, in alternation.
void fitRuleProbes(Fit& s) {
  constexpr int kRounds = 8;
  const size_t nr = s.nr;
  s.ruleOnlyCount.assign(nr, 0);
  for (int round = 0; round < kRounds; ++round) {
    auto [lb, count] = envelope(s, false);
    for (size_t r = 0; r < nr; ++r) {
      // Shared parameters count as crossed when either of their resources is.
      bool crossedFree = false;
      for (size_t t = 0; t < nr; ++t)
        if (s.caps.ofResource[t] == s.caps.ofResource[r] && s.freeMask[t]) crossedFree = true;
      s.ruleOnlyMask[r] = !crossedFree && count[r] > 0;
    }
    applyEnvelope(s, lb, count, s.ruleOnlyMask);
    s.ruleOnlyCount = count;
    solveRuleFactors(s);
    raiseHeldBackCapacities(s);
  }
}

// The rounds above can leave a capacity and a rule factor that every probe sees together
// (a socket link whose every crossing matches a rule) both wrong, and may have raised a
// capacity to make up for a factor that was still wrong. Refine those numbers
// jointly against every measured transfer; where the two are confounded, any pair that
// reproduces the measurements is as good as another. Capacities fixed by rule-free probes
// stay: they are exact where they are some probe's only bottleneck.
void refineConfounded(Fit& s) {
  std::vector<double*> tuned;
  std::vector<bool> isFactor;
  for (size_t r = 0; r < s.nr; ++r)
    if ((s.freeMask[r] || s.ruleOnlyMask[r]) && !s.exact[r] &&
        std::find(tuned.begin(), tuned.end(), s.caps.ofResource[r]) == tuned.end()) {
      tuned.push_back(s.caps.ofResource[r]);
      isFactor.push_back(false);
    }
  for (size_t i = 0; i < s.params.size(); ++i)
    if (s.ruleProbes[i] > 0) {
      tuned.push_back(&ruleValue(s.fit, s.params[i]));
      isFactor.push_back(true);
    }
  refineJointly(s.fit, s.prepared, tuned, isFactor);
}

// Every parameter some probe constrained, once (a shared one sums its resources' probes).
std::vector<FittedParameter> fittedParameters(const Fit& s) {
  std::vector<FittedParameter> out;
  std::vector<double*> reported;
  for (size_t r = 0; r < s.nr; ++r) {
    int probes = s.freeMask[r] ? s.freeCount[r] : s.ruleOnlyMask[r] ? s.ruleOnlyCount[r] : 0;
    if (probes == 0) continue;
    auto it = std::find(reported.begin(), reported.end(), s.caps.ofResource[r]);
    if (it != reported.end()) {
      for (FittedParameter& fp : out)
        if (fp.name == s.caps.nameOfResource[r]) fp.probes += probes;
      continue;
    }
    reported.push_back(s.caps.ofResource[r]);
    out.push_back({s.caps.nameOfResource[r], s.before[r], *s.caps.ofResource[r], probes});
  }
  for (size_t i = 0; i < s.params.size(); ++i)
    if (s.ruleProbes[i] > 0)
      out.push_back(
          {s.params[i].name, s.ruleBefore[i], ruleValue(s.fit, s.params[i]), s.ruleProbes[i]});
  return out;
}

// Provenance: each fitted value's new label replaces any that named it exactly.
void labelFitted(Topology& fit, const std::vector<FittedParameter>& parameters,
                 const std::string& profilerDescription) {
  for (const FittedParameter& fp : parameters) {
    for (topo::ValueLabel& l : fit.labels) std::erase(l.values, fp.name);
    std::erase_if(fit.labels, [](const topo::ValueLabel& l) { return l.values.empty(); });
    char buf[64];
    std::snprintf(buf, sizeof buf, " (prior %.4g)", fp.before);
    fit.labels.push_back({true,
                          {fp.name},
                          "fitted by tccl-pathfinder --calibrate from " +
                              std::to_string(fp.probes) + " probe(s) measured with " +
                              profilerDescription + buf});
  }
}

}  // namespace

CalibrationResult calibrate(const Topology& prior, Profiler& profiler,
                            const std::string& profilerDescription) {
  CalibrationResult res;
  res.fitted = prior;
  Fit s(prior, res.fitted);
  res.probes = measureProbes(prior, profiler);
  prepareProbes(s, prior, res.probes);
  fitRuleFreeCapacities(s);
  findRuleProbes(s);
  fitRuleProbes(s);
  refineConfounded(s);
  res.parameters = fittedParameters(s);
  labelFitted(res.fitted, res.parameters, profilerDescription);
  return res;
}

}  // namespace tccl::pathfinder
