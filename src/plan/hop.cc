#include "plan/hop.h"

#include <array>
#include <utility>

namespace tccl {
namespace {
constexpr std::array<std::pair<HopKind, std::string_view>, 5> kHopNames{{
    {HopKind::kP2pWrite, "p2p_write"},
    {HopKind::kP2pRead, "p2p_read"},
    {HopKind::kHostBounce, "host_bounce"},
    {HopKind::kNet, "net"},
    {HopKind::kShm, "shm"},
}};
constexpr std::array<std::pair<Engine, std::string_view>, 2> kEngineNames{{
    {Engine::kKernel, "kernel"},
    {Engine::kCopyEngine, "copy_engine"},
}};
}  // namespace

std::string_view hopKindName(HopKind kind) {
  for (auto& [k, n] : kHopNames)
    if (k == kind) return n;
  return "?";
}

std::optional<HopKind> parseHopKind(std::string_view name) {
  for (auto& [k, n] : kHopNames)
    if (n == name) return k;
  return std::nullopt;
}

std::string_view engineName(Engine engine) {
  for (auto& [e, n] : kEngineNames)
    if (e == engine) return n;
  return "?";
}

std::optional<Engine> parseEngine(std::string_view name) {
  for (auto& [e, n] : kEngineNames)
    if (n == name) return e;
  return std::nullopt;
}

std::string describeHop(const Hop& hop) {
  std::string s;
  switch (hop.kind) {
    case HopKind::kP2pWrite:
    case HopKind::kP2pRead:
      return std::string(hopKindName(hop.kind)) + "/" + std::string(engineName(hop.engine));
    case HopKind::kHostBounce:
      return "bounce@numa" + std::to_string(hop.numa) + "(" + std::string(engineName(hop.engine)) +
             "->" + std::string(engineName(hop.readEngine)) + ")";
    case HopKind::kNet:
      s = "net" + std::to_string(hop.nic);
      return hop.gpuDirect ? s + "/gdr" : s + "/staged@numa" + std::to_string(hop.numa);
    case HopKind::kShm:
      return "shm";
  }
  return "?";
}

}  // namespace tccl
