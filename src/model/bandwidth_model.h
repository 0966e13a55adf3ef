// The flow-level bandwidth model of one node (docs/bandwidth-model.md): resources with a
// capacity per direction, a route for every transfer kind, max-min fair sharing, and the
// topology's congestion rules as per-transfer bandwidth factors.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/transfer.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

class BandwidthModel {
 public:
  struct Resource {
    std::string name;  // e.g. "gpu2.up", "numa1.memory", "socket0.out"
    double capacity = 0;
    // Memory counts the bytes that pass through it; a link counts the time a transfer holds it,
    // which an inefficient or stalled transfer stretches (docs/bandwidth-model.md, "Factors").
    bool countsBytes = false;
  };
  // The load a transfer with factor f puts on a resource per GB/s it moves, per crossing.
  static double loadPerGbps(const Resource& r, double f) { return r.countsBytes ? 1.0 : 1.0 / f; }

  explicit BandwidthModel(topo::Topology topo);

  const topo::Topology& topology() const { return topo_; }
  const std::vector<Resource>& resources() const { return resources_; }

  // Resource ids a transfer crosses, once per crossing (a bounce crosses its NUMA node's
  // memory twice: the write and the read). Throws std::invalid_argument on bad indices.
  std::vector<int> route(const Transfer& t) const;

  // Bandwidth multiplier per transfer: the efficiency of its kind times every congestion
  // rule it matches within the set; 0 when the transfer is impossible (P2P not supported).
  std::vector<double> factors(std::span<const Transfer> transfers) const;

  // GB/s of each transfer under max-min fair sharing (progressive filling).
  std::vector<double> rates(std::span<const Transfer> transfers) const;

  // The rate at which all transfers can move together (every hop of a pipeline carries the
  // same bytes): min over resources of capacity / load. Equals the lowest max-min rate.
  double bottleneck(std::span<const Transfer> transfers) const;

 private:
  using Leg = std::vector<int>;
  void addResource(std::string name, double capacity, bool countsBytes = false);
  void appendFabric(Leg& leg, int fromNuma, int toNuma) const;
  Leg p2pLeg(int upA, int parentA, int numaA, int downB, int parentB, int numaB) const;
  Leg hostWriteLeg(int up, int parent, int numa, int toNuma) const;
  Leg hostReadLeg(int fromNuma, int down, int parent, int numa) const;
  void checkTransfer(const Transfer& t) const;
  // The legs (precomputed resource lists) of a transfer, at most 3.
  int legsOf(const Transfer& t, const Leg* out[3]) const;

  topo::Topology topo_;
  std::vector<Resource> resources_;
  int gpuBase_ = 0, nicBase_ = 0, pcieBase_ = 0, numaBase_ = 0, socketBase_ = 0;
  int numGpus_ = 0, numNics_ = 0, numNuma_ = 0;
  // Precomputed legs, flattened: [a * n + b].
  std::vector<Leg> gpuToGpu_, nicToGpu_, gpuToNic_;
  std::vector<Leg> gpuWrite_, gpuRead_, nicWrite_, nicRead_;  // [device * numNuma + numa]
  std::vector<Leg> wireIn_, wireOut_;
};

}  // namespace tccl::pathfinder
