// Named congestion rules: patterns of concurrent transfers that run slower than plain link
// sharing predicts, with their parameters (docs/bandwidth-model.md lists what each one matches).
#pragma once

#include <optional>
#include <string_view>

namespace tccl::topo {

enum class RuleKind {
  // A GPU reads host memory on its own NUMA node while it writes P2P to a GPU on another
  // NUMA node (AMD EPYC): both transfers slow down by `factor`.
  kHostReadWithRemoteP2pWrite,
  // P2P between GPUs on different NUMA nodes (scope numa) or sockets (scope socket): `factor`.
  kP2pAcrossNuma,
  // `minTransfers` or more concurrent transfers use host buffers on one NUMA node: each `factor`.
  kBounceBuffersOnOneNuma,
  // A copy engine writes into host memory (only on another NUMA node when remoteOnly): `factor`.
  kCopyEngineIntoHost,
  // A GPU writes (writeFactor) or reads (readFactor) host memory on another NUMA node/socket.
  kRemoteHostAccess,
};

enum class RuleScope { kNuma, kSocket };

struct CongestionRule {
  RuleKind kind = RuleKind::kP2pAcrossNuma;
  double factor = 1;  // multiplies the affected transfers' bandwidth, in (0, 1]
  double readFactor = 1;
  double writeFactor = 1;
  int minTransfers = 2;
  bool remoteOnly = false;
  RuleScope scope = RuleScope::kNuma;
};

std::string_view ruleKindName(RuleKind kind);
std::optional<RuleKind> parseRuleKind(std::string_view name);
// Comma-separated list of every rule name, for error messages.
std::string_view allRuleNames();

}  // namespace tccl::topo
