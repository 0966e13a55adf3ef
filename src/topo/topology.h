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
  std::string busId;  // PCI bus id, lower case "0000:3b:00.0"; empty when unknown
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

// Where some of a topology's numbers come from: the values it covers, by name ("gpus[*].up_gbps",
// "congestion_rules[0].factor", "p2p_supported"; '*' stands for every index), and the source
// (measured) or the reason (illustrative). docs/topology-format.md, "Provenance".
struct ValueLabel {
  bool measured = false;
  std::vector<std::string> values;
  std::string text;
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
  std::vector<ValueLabel> labels;         // every number: measured (and where) or illustrative
  std::vector<std::string> measured;      // free-text notes: facts about the layout, with sources
  std::vector<std::string> illustrative;  // free-text notes: what is made up about the layout
};

// One number (or yes/no fact) of a topology that the model uses, by name, and where it lives.
struct TopologyValue {
  std::string name;  // "gpus[2].up_gbps", "efficiency.host_bounce", "p2p_supported"
  double* number = nullptr;
  int* count = nullptr;   // congestion_rules[i].min_transfers
  bool* flag = nullptr;   // p2p_supported, nics[i].gpu_direct
  bool fraction = false;  // a factor or efficiency: in (0, 1]
};
std::vector<TopologyValue> topologyValues(Topology& topo);
// Does a label's value pattern cover this value name?
bool labelCovers(std::string_view pattern, std::string_view name);
// The label in force for a value: one naming it exactly beats one with '*'; a later label beats
// an earlier one of the same kind. nullptr when none covers it.
const ValueLabel* labelOf(const Topology& topo, std::string_view name);

struct LoadedTopology {
  std::optional<Topology> topology;  // set on success
  std::string error;                 // on failure: "<source>: <json path>: <problem>"
};

// `sourceName` prefixes error messages (a file name, or "topology" for in-memory text).
LoadedTopology parseTopology(std::string_view jsonText, std::string_view sourceName);
LoadedTopology parseTopology(std::string_view jsonText);
LoadedTopology loadTopologyFile(const std::string& path);
// The topology file format (docs/topology-format.md), as parseTopology reads it back: the
// same topology, less the "note" fields.
std::string topologyToJson(const Topology& topo);
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
