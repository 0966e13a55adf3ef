// One node's hardware as the bandwidth model sees it: sockets, NUMA nodes, the PCIe tree,
// GPUs, NICs, link capacities per direction and the CPU's congestion rules.
// Read from a topology file (docs/topology-format.md) or discovered live through hwloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topo/congestion_rule.h"
#include "topo/node_signature.h"

namespace tccl::topo {

struct Socket {
  double linkGbps = 0;  // inter-socket link, per direction (out of and into this socket)
};

struct NumaNode {
  int socket = 0;
  double memoryGbps = 0;  // memory bandwidth that host bounces use (reads and writes together)
  double fabricGbps = 0;  // link between this NUMA node and the socket fabric, per direction
};

enum class PcieKind { kRootPort, kSwitch };

// A root port (attached to a NUMA node's root complex) or a switch (under another PCIe node).
struct PcieNode {
  std::string id;
  PcieKind kind = PcieKind::kRootPort;
  int parent = -1;  // index into Topology::pcie; -1 for root ports
  int numa = 0;     // NUMA node of the root complex this node hangs from
  double upGbps = 0;
  double downGbps = 0;  // link to the parent (root ports: to the root complex)
};

struct Gpu {
  std::string busId;
  std::string model;
  int numa = 0;
  int parent = 0;  // index into Topology::pcie
  double upGbps = 0;
  double downGbps = 0;
};

struct Nic {
  std::string name;
  int numa = 0;
  int parent = 0;  // index into Topology::pcie
  double upGbps = 0;
  double downGbps = 0;
  double wireGbps = 0;     // network rate per direction
  bool gpuDirect = false;  // GPU-direct RDMA supported
};

// Fraction of the route's capacity a transfer of each kind reaches when nothing else runs.
struct TransferEfficiency {
  double p2pWrite = 1;
  double p2pRead = 1;
  double hostBounce = 1;
  double netGpuDirect = 1;
  double netStaged = 1;
};

struct Topology {
  std::string name;
  std::string description;
  std::string cpuModel;
  bool p2pSupported = true;  // GPU peer-to-peer allowed by the driver
  std::vector<Socket> sockets;
  std::vector<NumaNode> numaNodes;
  std::vector<PcieNode> pcie;
  std::vector<Gpu> gpus;  // PCI bus id order: the GPU index
  std::vector<Nic> nics;
  TransferEfficiency efficiency;
  std::vector<CongestionRule> congestionRules;
  std::vector<std::string> measured;      // which numbers are measured, with sources
  std::vector<std::string> illustrative;  // which numbers are illustrative
};

struct LoadedTopology {
  std::optional<Topology> topology;  // set on success
  std::string error;                 // on failure: "<source>: <json path>: <problem>"
};

// `sourceName` prefixes error messages (a file name, or "topology" for in-memory text).
LoadedTopology parseTopology(std::string_view jsonText, std::string_view sourceName);
LoadedTopology parseTopology(std::string_view jsonText);
LoadedTopology loadTopologyFile(const std::string& path);
// The machine this process runs on, through hwloc; capacities from PCIe link speeds.
LoadedTopology discoverLiveTopology();

NodeSignature signatureOf(const Topology& topo);
int gpuNuma(const Topology& topo, int gpuIndex);
int numaSocket(const Topology& topo, int numa);

// Bottom-up list of PCIe node indices from `parent` to its root port.
std::vector<int> pcieAncestors(const Topology& topo, int parent);
// True when GPUs a and b sit below a common PCIe switch.
bool shareSwitch(const Topology& topo, int gpuA, int gpuB);

}  // namespace tccl::topo
