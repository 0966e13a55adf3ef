// What identifies a node type: the path database is keyed by it, and the runtime
// computes it for the node it runs on (live through hwloc, or from TCCL_SIM_TOPOLOGY).
#pragma once

#include <string>
#include <vector>

namespace tccl {

struct GpuSignature {
  std::string busId;  // PCI bus id, lower case "0000:3b:00.0"
  std::string model;  // e.g. "NVIDIA GeForce RTX 3090"
  int numa = -1;
  bool operator==(const GpuSignature&) const = default;
};

struct NicSignature {
  std::string name;  // e.g. "mlx5_0" or "eth0"
  int numa = -1;
  bool operator==(const NicSignature&) const = default;
};

struct NodeSignature {
  std::string cpuModel;
  int numaCount = 0;
  std::vector<GpuSignature> gpus;  // in PCI bus id order: the GPU index used everywhere
  std::vector<NicSignature> nics;
  bool operator==(const NodeSignature&) const = default;
};

// One line for logs: cpu model, NUMA count, GPU and NIC counts.
std::string describeSignature(const NodeSignature& sig);

}  // namespace tccl
