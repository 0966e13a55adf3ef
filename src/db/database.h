// The path database: what tccl-pathfinder writes and the runtime reads (docs/db-format.md).
// GPU indices are indices into the node signature's GPU list (PCI bus id order).
#pragma once

#include <string>
#include <vector>

#include "plan/hop.h"
#include "topo/node_signature.h"

namespace tccl::db {

inline constexpr int kDatabaseVersion = 1;

struct Provenance {
  std::string tool;  // "tccl-pathfinder" or "tccl-db import"
  std::string toolVersion;
  std::string profiler;  // "cuda", "model" or "tccl-xml"
  std::string date;      // ISO 8601
  std::string topology;  // topology file name or "live"
};

// One channel: a ring (intra) or a chain (inter) over GPU indices of the node.
struct Channel {
  std::vector<int> order;  // GPU indices; each GPU of the subset exactly once
  std::vector<Hop> hops;   // ring: hops[i] is order[i] -> order[(i+1) % n]; chain: n-1 hops
  double gbps = 0;         // measured (or modelled) bandwidth of this channel alone
};

struct IntraEntry {
  std::vector<int> gpus;          // the GPU subset, ascending
  std::vector<Channel> channels;  // one or more rings, run concurrently
  double gbps = 0;                // bottleneck bandwidth of the channels run together
  bool proven = true;             // false: the search stopped at its node limit (--max-nodes)
};

struct InterEntry {
  std::vector<int> gpus;          // the GPU subset, ascending
  Hop entry;                      // NIC -> order.front() (kind kNet)
  Hop exit;                       // order.back() -> NIC (kind kNet)
  std::vector<Channel> channels;  // chains: each starts at the entry GPU and ends at the exit GPU
  double gbps = 0;
  bool proven = true;  // false: the search stopped at its node limit (--max-nodes)
};

struct NodeType {
  std::string name;
  NodeSignature signature;
  std::vector<IntraEntry> intra;
  std::vector<InterEntry> inter;
};

struct Database {
  int version = kDatabaseVersion;
  Provenance provenance;
  std::vector<NodeType> nodes;
};

const NodeType* findNodeType(const Database& db, const std::string& name);
// "[0,1,3]" for messages; `brackets` gives the two enclosing characters.
std::string listGpus(const std::vector<int>& gpus, const char (&brackets)[3] = "[]");

}  // namespace tccl::db
