// The NCCL baseline: what NCCL itself builds on a node, release by release, honouring the
// user's NCCL_* knobs: its rings (searched as graph/search.cc does), how many channels run them
// (graph/connect.cc duplicates them), P2P or SHM per hop (paths.cc, ncclTopoCheckP2p) with the
// SHM buffer on the receiver's NUMA node (transport/shm.cc), and GPU-direct RDMA toward the NIC
// (ncclTopoCheckGdr). The runtime's default plan and tccl-sim both use it
// (docs/nccl-baseline.md).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plan/hop.h"
#include "plan/nccl_system.h"
#include "topo/topology.h"

namespace tccl::nccl {

std::optional<Release> parseRelease(std::string_view name);  // "nccl-2.18" or "nccl-2.28"
std::string_view releaseName(Release release);
std::string_view releaseNames();  // for messages
// The rules for the nccl.h TCCL was compiled against. When its version is neither of the
// reproduced releases, the nearest one, and *note says so.
Release installedRelease(std::string* note = nullptr);

// Reads NCCL_P2P_DISABLE, NCCL_P2P_LEVEL, NCCL_SHM_DISABLE, NCCL_NET_GDR_LEVEL,
// NCCL_NET_GDR_READ, NCCL_MIN_NCHANNELS and NCCL_MAX_NCHANNELS through `lookup` (getenv). A
// value NCCL would not understand is an error naming the variable.
bool readKnobs(const std::function<const char*(const char*)>& lookup, Release release, Knobs* out,
               std::string* error);
// The knobs that are set, "NCCL_P2P_LEVEL=SYS NCCL_MIN_NCHANNELS=4"; empty when none is.
std::string describeKnobs(const Knobs& knobs);

// One channel of one node: a ring over its GPUs, or (several nodes) a chain from the NIC
// through its GPUs back to the NIC.
struct ChannelBaseline {
  std::vector<int> order;  // GPU indices of the topology
  std::vector<Hop> hops;   // ring: order[i] -> order[i+1 mod n]; chain: n - 1 hops
  Hop entry, exit;         // chains: NIC -> order.front(), order.back() -> NIC
};

struct NodeBaseline {
  Release release = Release::k2_28;
  std::vector<ChannelBaseline> channels;  // every channel NCCL runs, duplicates included
  int searchChannels = 0;                 // rings the search found, before duplication
  float searchGbps = 0;                   // NCCL's own bandwidth estimate per searched ring
  std::vector<std::string> notes;         // why: one line per decision
  // Set when NCCL would do what a plan cannot say (its network transport between two GPUs of
  // one node): the reason, and `channels` is empty.
  std::string unsupported;
};

// `gpus`: the GPUs in use, ascending (local rank r plays gpus[r]); `nodes`: nodes in the job
// (identical ones; more than 1 makes chains through NIC 0).
NodeBaseline buildNodeBaseline(const topo::Topology& topo, std::span<const int> gpus, int nodes,
                               Release release, const Knobs& knobs);

// "2x [0 -p2p-> 1 -shm@numa1-> 2 ...]": a short form of the channels for logs and tools.
std::string describeBaseline(const NodeBaseline& baseline);

}  // namespace tccl::nccl
