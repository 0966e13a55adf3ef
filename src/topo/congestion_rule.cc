#include "topo/congestion_rule.h"

#include <array>
#include <utility>

namespace tccl::topo {
namespace {
constexpr std::array<std::pair<RuleKind, std::string_view>, 5> kRuleNames{{
    {RuleKind::kHostReadWithRemoteP2pWrite, "host_read_with_remote_p2p_write"},
    {RuleKind::kP2pAcrossNuma, "p2p_across_numa"},
    {RuleKind::kBounceBuffersOnOneNuma, "bounce_buffers_on_one_numa"},
    {RuleKind::kCopyEngineIntoHost, "copy_engine_into_host"},
    {RuleKind::kRemoteHostAccess, "remote_host_access"},
}};
}  // namespace

std::string_view ruleKindName(RuleKind kind) {
  for (auto& [k, n] : kRuleNames)
    if (k == kind) return n;
  return "?";
}

std::optional<RuleKind> parseRuleKind(std::string_view name) {
  for (auto& [k, n] : kRuleNames)
    if (n == name) return k;
  return std::nullopt;
}

std::string_view allRuleNames() {
  return "host_read_with_remote_p2p_write, p2p_across_numa, bounce_buffers_on_one_numa, "
         "copy_engine_into_host, remote_host_access";
}

}  // namespace tccl::topo
