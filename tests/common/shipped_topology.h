// Loads one of the shipped topology files (pathfinder/topologies/NAME.json) in a test.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "topo/topology.h"

namespace tccl::testing {

inline topo::Topology loadShippedTopology(const std::string& name) {
  topo::LoadedTopology t =
      topo::loadTopologyFile(std::string(TCCL_TOPOLOGY_DIR) + "/" + name + ".json");
  EXPECT_TRUE(t.topology) << t.error;
  return t.topology ? *t.topology : topo::Topology{};
}

}  // namespace tccl::testing
