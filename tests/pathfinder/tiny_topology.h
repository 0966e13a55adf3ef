// A small node whose rates are easy to compute by hand (see each test):
// NUMA 0 (memory 12) holds root port rp0 (16/16) with switch sw0 (12/12) and GPUs 0, 1;
// NUMA 1 (memory 30) holds root port rp1 (16/16) with GPU 2 and a NIC (8/8, wire 5).
// Every GPU link is 10/10; each NUMA node's fabric link is 10 per direction.
#pragma once

#include <string>

namespace tccl::pathfinder::testing {

inline std::string tinyTopologyJson(const std::string& rules = "[]",
                                    const std::string& efficiency = "{}") {
  return R"({
  "name": "tiny", "cpu_model": "test cpu",
  "sockets": [{"link_gbps": 100}],
  "numa_nodes": [{"socket": 0, "memory_gbps": 12, "fabric_gbps": 10},
                 {"socket": 0, "memory_gbps": 30, "fabric_gbps": 10}],
  "pcie": [{"id": "rp0", "type": "root_port", "numa": 0, "up_gbps": 16, "down_gbps": 16},
           {"id": "sw0", "type": "switch", "parent": "rp0", "up_gbps": 12, "down_gbps": 12},
           {"id": "rp1", "type": "root_port", "numa": 1, "up_gbps": 16, "down_gbps": 16}],
  "gpus": [{"bus_id": "0000:01:00.0", "model": "G", "numa": 0, "parent": "sw0", "up_gbps": 10, "down_gbps": 10},
           {"bus_id": "0000:02:00.0", "model": "G", "numa": 0, "parent": "sw0", "up_gbps": 10, "down_gbps": 10},
           {"bus_id": "0000:81:00.0", "model": "G", "numa": 1, "parent": "rp1", "up_gbps": 10, "down_gbps": 10}],
  "nics": [{"name": "nic0", "numa": 1, "parent": "rp1", "up_gbps": 8, "down_gbps": 8, "wire_gbps": 5, "gpu_direct": true}],
  "efficiency": )" +
         efficiency + R"(,
  "congestion_rules": )" +
         rules + "}";
}

}  // namespace tccl::pathfinder::testing
