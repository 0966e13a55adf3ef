// Hand-built databases shared by the db tests.
#pragma once

#include <string>
#include <vector>

#include "db/database.h"

namespace tccl::db::testing {

inline Hop p2pWrite() {
  return Hop{.kind = HopKind::kP2pWrite};
}
inline Hop p2pRead(Engine e = Engine::kKernel) {
  return Hop{.kind = HopKind::kP2pRead, .engine = e};
}
inline Hop bounce(int numa) {
  return Hop{.kind = HopKind::kHostBounce,
             .engine = Engine::kKernel,
             .readEngine = Engine::kCopyEngine,
             .numa = numa};
}
// The ends of a net hop: GPU-direct on this side, on the other, and the NIC.
struct NetEnds {
  bool gdr = false;
  bool peerGdr = false;
  int nic = 0;
};
// A net hop: gpuDirect on this side, peerGpuDirect on the other; staged on NUMA 0 otherwise.
inline Hop net(NetEnds ends) {
  return Hop{.kind = HopKind::kNet,
             .numa = ends.gdr ? -1 : 0,
             .nic = ends.nic,
             .gpuDirect = ends.gdr,
             .peerGpuDirect = ends.peerGdr};
}

inline Channel ring(std::vector<int> order, std::vector<Hop> hops, double gbps) {
  return Channel{std::move(order), std::move(hops), gbps};
}

// A 4-GPU, 2-NUMA node: GPUs 0,1 on NUMA 0, GPUs 2,3 on NUMA 1, one NIC on NUMA 0.
inline NodeType sampleNode(const std::string& name = "box4", const std::string& cpu = "Xeon X") {
  NodeType n;
  n.name = name;
  n.signature.cpuModel = cpu;
  n.signature.numaCount = 2;
  n.signature.gpus = {{"0000:1a:00.0", "RTX 3090", 0},
                      {"0000:1b:00.0", "RTX 3090", 0},
                      {"0000:3d:00.0", "RTX 3090", 1},
                      {"0000:3e:00.0", "RTX 3090", 1}};
  n.signature.nics = {{"eth0", 0}};
  IntraEntry all;
  all.gpus = {0, 1, 2, 3};
  all.channels = {ring({0, 1, 2, 3}, {p2pWrite(), bounce(1), p2pWrite(), bounce(0)}, 10.5),
                  ring({0, 3, 2, 1}, {bounce(1), p2pRead(), bounce(0), p2pRead()}, 10.25)};
  all.gbps = 20.0;
  IntraEntry pair;
  pair.gpus = {0, 1};
  pair.channels = {ring({0, 1}, {p2pWrite(), p2pWrite()}, 22.0)};
  pair.gbps = 22.0;
  n.intra = {all, pair};
  InterEntry chain;
  chain.gpus = {0, 1, 2, 3};
  chain.entry = net({.gdr = true, .peerGdr = true});
  chain.exit = net({.gdr = true, .peerGdr = true});
  chain.channels = {ring({0, 1, 2, 3}, {p2pWrite(), bounce(1), p2pWrite()}, 11.0)};
  chain.gbps = 11.0;
  InterEntry staged = chain;
  staged.entry = net({.gdr = false, .peerGdr = false});
  staged.exit = net({.gdr = false, .peerGdr = false});
  staged.channels = {ring({1, 0, 3, 2}, {p2pWrite(), bounce(1), p2pWrite()}, 9.0)};
  staged.gbps = 9.0;
  n.inter = {chain, staged};
  return n;
}

inline Database sampleDatabase() {
  Database db;
  db.provenance = {"tccl-pathfinder", "0.1.0", "model", "2024-05-01T12:00:00Z", "box4.json"};
  db.nodes = {sampleNode()};
  return db;
}

}  // namespace tccl::db::testing
