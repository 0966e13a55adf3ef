// The hop vocabulary shared by the runtime, the path database and the pathfinder:
// how bytes travel from one GPU (rank) to the next one in a ring or chain.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tccl {

enum class HopKind {
  kP2pWrite,    // the sender writes into the receiver's device memory
  kP2pRead,     // the receiver reads from the sender's device memory
  kHostBounce,  // the sender writes into a host buffer on NUMA node `numa`, the receiver reads it
  kNet,         // between nodes, through NIC `nic`: GPU-direct or staged on NUMA node `numa`
  kShm,         // host backend only: a plain shared-memory FIFO (the default plan's hop)
};

// Who moves the bytes on one side of a hop: an SM kernel or a DMA copy engine.
enum class Engine { kKernel, kCopyEngine };

struct Hop {
  HopKind kind = HopKind::kShm;
  Engine engine = Engine::kKernel;      // p2p: the copying side; bounce/net: the writer
  Engine readEngine = Engine::kKernel;  // bounce/net: the reader
  int numa = -1;                        // bounce buffer or net staging NUMA node; -1: none
  int nic = -1;                         // net hops only
  bool gpuDirect = false;               // net hops only: this node's side uses GPU memory directly
  bool peerGpuDirect = false;           // net hops only: the other node's side uses GPU memory

  bool operator==(const Hop&) const = default;
};

std::string_view hopKindName(HopKind kind);
std::optional<HopKind> parseHopKind(std::string_view name);
std::string_view engineName(Engine engine);
std::optional<Engine> parseEngine(std::string_view name);

// Short human-readable form used in logs and tools, e.g. "p2p_write/kernel",
// "bounce@numa1(kernel->copy_engine)", "net0/gdr", "shm".
std::string describeHop(const Hop& hop);

}  // namespace tccl
