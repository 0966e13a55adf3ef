// Calibration: measures a fixed set of probe transfer sets with a profiler and fits a
// topology's link capacities and congestion-rule factors to them (docs/bandwidth-model.md,
// "Calibration").
#pragma once

#include <string>
#include <vector>

#include "model/profiler.h"
#include "model/transfer.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct Probe {
  std::string name;  // e.g. "p2p_write 0->1", "rule host_read_with_remote_p2p_write"
  std::vector<Transfer> transfers;
};

// The documented probe set of a topology: single transfers of every kind (P2P write and read
// per GPU pair, a bounce per GPU pair and NUMA node, NIC entry/exit per GPU, GPU-direct and
// staged per NUMA node), two bounces sharing each NUMA node, and for every congestion rule of
// the file a small concurrent set that triggers it.
std::vector<Probe> calibrationProbes(const topo::Topology& topo);

struct ProbeResult {
  Probe probe;
  std::vector<double> measured;  // GB/s per transfer; empty when the profiler could not run it
  std::string skipped;           // why it was not measured
  bool ruleFree = true;          // matches no congestion rule: a capacity probe
};

struct FittedParameter {
  std::string name;  // e.g. "gpus[0].up_gbps", "congestion_rules[1].factor"
  double before = 0, after = 0;
  int probes = 0;  // probes that constrained it
};

struct CalibrationResult {
  topo::Topology fitted;
  std::vector<ProbeResult> probes;
  std::vector<FittedParameter> parameters;  // the ones the probes constrained
};

// Measures every probe with `profiler` (a probe it rejects with std::invalid_argument is
// skipped and reported) and fits `prior`'s capacities and rule factors:
//  - a capacity crossed by rule-free probes becomes the largest load any of them puts on it
//    at its measured bottleneck rate (max over probes of rate x crossings / efficiency): the
//    exact capacity for every link that is some probe's bottleneck, a lower bound otherwise;
//  - capacities crossed only by rule-matching probes and every rule factor are then fitted
//    in alternation (rule factors by bisection so that the model reproduces each probe's
//    measured bottleneck rate; the smallest solution over the rule's probes);
//  - everything not pinned by the first step is then refined jointly against every measured
//    transfer (coordinate descent with pattern moves on the squared log error).
// Capacities no probe crosses keep the prior value. Efficiencies are not fitted.
CalibrationResult calibrate(const topo::Topology& prior, Profiler& profiler,
                            const std::string& profilerDescription);

// True when the concurrent set matches at least one congestion rule of `topo`.
bool matchesAnyRule(const topo::Topology& topo, std::span<const Transfer> transfers);

}  // namespace tccl::pathfinder
