// Best-first search for the ring (or chain) of a GPU subset with the highest bottleneck
// bandwidth, scoring every partial path with all its hops running concurrently.
// A partial path's bandwidth never rises when a hop is added (more load, more rule matches),
// so min(partial score, optimistic bound of the hops still missing) bounds every completion.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "db/database.h"
#include "model/profiler.h"
#include "search/candidates.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct SearchOptions {
  size_t maxNodes = 200000;  // partial paths kept per search; past it the best found is kept
  bool multiChannel = true;  // also try a second concurrent channel (reverse ring, same order)
};

struct PathResult {
  std::vector<db::Channel> channels;  // channels[0]: the best single ring or chain
  Hop entry, exit;                    // chains only
  double gbps = 0;                    // all channels together: channels x slowest transfer
  double singleGbps = 0;              // channels[0] alone
  bool proven = true;                 // channels[0] is the optimum (no node limit reached)
  size_t nodes = 0;                   // partial paths scored
};

// A chain's result from its transfers: the NIC's entry hop into the first GPU, the hops between
// GPUs, and the exit hop to the NIC.
PathResult chainResult(const std::vector<Transfer>& path, double gbps);

class PathSearch {
 public:
  PathSearch(Profiler& profiler, const topo::Topology& topo, Candidates candidates,
             SearchOptions options);

  PathResult ring(std::span<const int> gpus);
  // A chain through every GPU of `gpus` that enters from the NIC through `entry` and leaves
  // through `exit` (kNet hops); the search picks the entry and exit GPUs.
  PathResult chain(std::span<const int> gpus, const Hop& entry, const Hop& exit);

 private:
  struct Problem;
  struct Node;
  PathResult solve(const Problem& p);
  void children(const Problem& p, const std::vector<Node>& nodes, int at, std::vector<Node>& out);
  std::vector<Transfer> pathOf(const std::vector<Node>& nodes, int at, const Node* extra) const;
  double remainingBound(const Problem& p, const Node& n) const;
  PathResult toResult(const Problem& p, const std::vector<Transfer>& path, double gbps) const;
  void addSecondChannel(const Problem& p, PathResult& result);

  Profiler& profiler_;
  Candidates cand_;
  SearchOptions options_;
  int numGpus_;
  std::vector<double> pairBest_;  // [a * numGpus_ + b]: best standalone hop a -> b
};

}  // namespace tccl::pathfinder
