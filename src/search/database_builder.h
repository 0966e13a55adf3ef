// Runs every search a node type needs and assembles the path database: intra-node rings for
// every GPU subset of size >= 2, inter-node chains for every (subset, entry GPU, exit GPU).
// Problems equal under relabelling symmetry are solved once; --jobs spreads them over threads.
#pragma once

#include <string>

#include "db/database.h"
#include "model/profiler.h"
#include "search/path_search.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct BuildOptions {
  int jobs = 1;
  bool exhaustive = false;  // enumerate every order and hop assignment instead of searching
  bool progress = false;    // a progress line on stderr
  SearchOptions search;
  std::string topologyName;  // provenance: file name or "live"
};

struct BuildReport {
  size_t intraProblems = 0, interProblems = 0;  // all of them
  size_t intraSolved = 0, interSolved = 0;      // distinct under symmetry, actually solved
  size_t unproven = 0;                          // searches that hit the node limit
  size_t nodesScored = 0;
  double seconds = 0;
};

db::Database buildDatabase(const topo::Topology& topo, Profiler& profiler,
                           const BuildOptions& options, BuildReport* report);

// Chains run between identical nodes: the entry's peer side is the exit's own side and back.
void linkPeerSides(Hop& entry, Hop& exit);

}  // namespace tccl::pathfinder
