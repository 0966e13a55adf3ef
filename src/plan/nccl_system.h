// NCCL's own picture of one node, rebuilt from a topo::Topology: the graph its topology code
// makes (GPUs, PCIe switches, one CPU node per NUMA node, NICs and their network ports), with
// NCCL's link bandwidths and path types, and its decisions per GPU pair (P2P or not) and per
// GPU and NIC (GPU-direct RDMA or not). docs/nccl-baseline.md cites the NCCL source of each rule.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "topo/topology.h"

namespace tccl::nccl {

// The NCCL releases whose rules are reproduced (read from their source, checked against it).
enum class Release { k2_18, k2_28 };

// NCCL's path types, in its order (2.28 numbering; 2.18 has no C2C and no P2C).
enum class PathType { kLoc, kNvl, kNvb, kC2c, kPix, kPxb, kP2c, kPxn, kPhb, kSys, kNet, kDis };
std::string_view pathTypeName(PathType type);
// The next wider path type of the release (skips the types it does not have).
PathType widerPathType(PathType type, Release release);

enum class CpuVendor { kIntel, kAmd, kOther };
// What NCCL learns from cpuid, guessed from the topology's CPU model string.
struct CpuKind {
  CpuVendor vendor = CpuVendor::kOther;
  // NCCL's Intel generations for the inter-socket bandwidth: 0 Broadwell or older, 1 Skylake,
  // 2 Sapphire Rapids, 3 Emerald Rapids.
  int intelGeneration = 0;
};
CpuKind cpuKindOf(const topo::Topology& topo);
// CUDA compute capability x10 guessed from the GPU model name (80 when unknown).
int computeCapabilityOf(std::string_view gpuModel);
// NCCL's nominal bandwidth of a PCIe link (lanes x rate / 80: 12 for Gen3 x16, 24 for Gen4 x16)
// nearest to a measured per-direction rate; topology files hold measured rates.
float nominalPcieGbps(double measuredGbps);
// NCCL's network port bandwidth (port speed in Mb/s / 8000) nearest to a measured wire rate.
float nominalNetGbps(double measuredGbps);

// The user's settings that change NCCL's choices (read by readKnobs in nccl_baseline.h).
struct Knobs {
  std::optional<PathType> p2pLevel;     // NCCL_P2P_LEVEL, or LOC for NCCL_P2P_DISABLE=1
  bool shmDisable = false;              // NCCL_SHM_DISABLE=1
  std::optional<PathType> netGdrLevel;  // NCCL_NET_GDR_LEVEL
  std::optional<int> netGdrRead;        // NCCL_NET_GDR_READ
  std::optional<int> minChannels;       // NCCL_MIN_NCHANNELS
  std::optional<int> maxChannels;       // NCCL_MAX_NCHANNELS
};

// The graph. Nodes and links live in flat arrays; a path is the list of links it crosses.
class System {
 public:
  enum class NodeKind { kGpu, kPci, kCpu, kNic, kNet };
  enum class LinkKind { kPci, kSys, kNet };
  struct Link {
    int from = 0, to = 0;
    LinkKind kind = LinkKind::kPci;
    float bw = 0;  // what is left of it: the search consumes it
  };
  struct Node {
    NodeKind kind = NodeKind::kCpu;
    std::vector<int> links;  // outgoing link ids, in NCCL's order
    int device = -1;         // GPU or NIC index in the topology
    int numa = -1;           // CPU nodes
    int cc = 0;              // GPUs: compute capability x10
    int rank = -1;           // GPUs: rank within the node's communicator
  };
  struct Path {
    std::vector<int> links;  // from the source to the destination
    float bw = 0;
    PathType type = PathType::kDis;
  };

  // `gpus`: the GPUs in use, ascending; local rank r plays gpus[r]. `withNet`: the job spans
  // several nodes, so NIC 0 of the topology takes part.
  System(const topo::Topology& topo, std::span<const int> gpus, bool withNet, Release release,
         const Knobs& knobs);

  Release release() const { return release_; }
  const CpuKind& cpu() const { return cpu_; }
  int gpuCount() const { return static_cast<int>(gpus_.size()); }
  int netCount() const { return static_cast<int>(nets_.size()); }
  int gpuNode(int g) const { return gpus_[g]; }  // NCCL's GPU order: by CPU, then PCIe tree
  int netNode(int n) const { return nets_[n]; }
  const Node& node(int id) const { return nodes_[id]; }
  std::vector<Link>& links() { return links_; }
  const std::vector<Link>& links() const { return links_; }
  int reverseLink(int link) const { return reverse_[link]; }
  int gpuPciLink(int g) const;  // the GPU's link to its parent

  // Paths as the search sees them (after the P2P and GPU-direct detours through a CPU).
  const Path& gpuToGpu(int a, int b) const { return gpuGpu_[a * gpuCount() + b]; }
  const Path& gpuToNet(int g, int n) const { return gpuNet_[g * netCount() + n]; }
  const Path& netToGpu(int n, int g) const { return netGpu_[n * gpuCount() + g]; }
  // The path type before any detour (what ncclTopoCheckP2p compares with the P2P level).
  PathType directGpuType(int a, int b) const { return directType_[a * gpuCount() + b]; }

  // ncclTopoCheckP2p (paths.cc): may GPU a write into GPU b's memory?
  bool p2p(int a, int b) const { return p2p_[a * gpuCount() + b]; }
  int p2pLevel() const;  // the level in force, as a PathType
  // ncclTopoCheckGdr (paths.cc): does GPU g use GPU-direct RDMA with NIC n? `read`: the send
  // side (the NIC reads GPU memory); otherwise the receive side.
  bool gdr(int g, int n, bool read) const;
  // ncclTopoCheckNet (paths.cc): would NCCL rather go through the NIC between GPUs a and b?
  bool netBeatsIntra(int a, int b) const;

  // More than one node: the search starts and ends its rings at a NIC (NCCL's system->inter).
  bool inter() const { return inter_; }
  float maxBw() const { return maxBw_; }      // ncclTopoSearchInit
  float totalBw() const { return totalBw_; }  // ncclTopoSearchInit
  int minCompCap() const;
  // 2.28: the GPUs the search starts from at NIC n (ncclTopoGetLocal), nearest first.
  std::vector<int> localGpus(int n) const;

 private:
  int addNode(Node n);
  void connect(int a, int b, LinkKind kind, float bw);
  std::vector<Path> pathsTo(int base) const;  // ncclTopoSetPaths: every node's path to `base`
  Path join(const Path& a, const Path& b) const;

  Release release_;
  Knobs knobs_;
  CpuKind cpu_;
  bool inter_ = false;
  bool nicGdr_ = false;
  bool p2pSupported_ = true;
  std::vector<Node> nodes_;
  std::vector<Link> links_;
  std::vector<int> reverse_;
  std::vector<int> gpus_, nets_, cpus_;
  std::vector<Path> gpuGpu_, gpuNet_, netGpu_;
  std::vector<PathType> directType_, directNetType_;
  std::vector<int> localCpu_;  // per GPU: index into cpus_
  std::vector<bool> p2p_;
  float maxBw_ = 0, totalBw_ = 0;
};

}  // namespace tccl::nccl
