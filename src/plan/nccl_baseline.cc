#include "plan/nccl_baseline.h"

#include <nccl.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <sstream>

#include "plan/nccl_ring_search.h"

namespace tccl::nccl {
namespace {

int maxChannelsOf(Release r) {
  return r == Release::k2_18 ? 32 : 64;  // MAXCHANNELS
}

bool parseInt(const char* text, long* out) {
  if (!text || !*text) return false;
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 0);
  if (errno != 0 || *end != '\0' || v < INT_MIN || v > INT_MAX) return false;
  *out = v;
  return true;
}

// ncclGetLevel (paths.cc): a path type name, or the old numbering 0..5.
std::optional<PathType> parseLevel(const char* text, Release release) {
  for (int t = 0; t <= static_cast<int>(PathType::kSys); ++t) {
    const auto type = static_cast<PathType>(t);
    if (release == Release::k2_18 && (type == PathType::kC2c || type == PathType::kP2c)) continue;
    if (pathTypeName(type) == text) return type;
  }
  if (text[0] >= '0' && text[0] <= '9') {
    static constexpr PathType kOld[] = {PathType::kLoc, PathType::kPix, PathType::kPxb,
                                        PathType::kPhb, PathType::kSys, PathType::kSys};
    const long old = std::strtol(text, nullptr, 10);
    return kOld[std::min(old, 5L)];
  }
  return std::nullopt;
}

std::string levelChoices(Release release) {
  return release == Release::k2_18 ? "LOC, NVL, NVB, PIX, PXB, PXN, PHB, SYS or 0-5"
                                   : "LOC, NVL, NVB, C2C, PIX, PXB, P2C, PXN, PHB, SYS or 0-5";
}

std::string hopName(const Hop& h) {
  if (h.kind == HopKind::kP2pWrite) return "p2p";
  if (h.kind == HopKind::kHostBounce) return "shm@numa" + std::to_string(h.numa);
  return describeHop(h);
}

}  // namespace

std::optional<Release> parseRelease(std::string_view name) {
  if (name == "nccl-2.18") return Release::k2_18;
  if (name == "nccl-2.28") return Release::k2_28;
  return std::nullopt;
}

std::string_view releaseName(Release release) {
  return release == Release::k2_18 ? "nccl-2.18" : "nccl-2.28";
}

std::string_view releaseNames() {
  return "nccl-2.18, nccl-2.28";
}

Release installedRelease(std::string* note) {
  const int minor = NCCL_MINOR;
  const Release r = minor >= 23 ? Release::k2_28 : Release::k2_18;
  if (note && NCCL_MAJOR == 2 && minor != 18 && minor != 28)
    *note = "nccl.h is " + std::to_string(NCCL_MAJOR) + "." + std::to_string(minor) +
            "; its nearest reproduced release is " + std::string(releaseName(r));
  return r;
}

bool readKnobs(const std::function<const char*(const char*)>& lookup, Release release, Knobs* out,
               std::string* error) {
  Knobs k;
  auto bad = [&](const char* name, const char* value, const std::string& expected) {
    *error = std::string(name) + "=" + value + ": not understood (expected " + expected + ")";
    return false;
  };
  long v = 0;
  const char* s = lookup("NCCL_P2P_DISABLE");
  if (s) {
    if (!parseInt(s, &v)) return bad("NCCL_P2P_DISABLE", s, "an integer");
    if (v == 1) k.p2pLevel = PathType::kLoc;
  }
  s = lookup("NCCL_P2P_LEVEL");
  if (s && !k.p2pLevel) {
    k.p2pLevel = parseLevel(s, release);
    if (!k.p2pLevel) return bad("NCCL_P2P_LEVEL", s, levelChoices(release));
  }
  s = lookup("NCCL_SHM_DISABLE");
  if (s) {
    if (!parseInt(s, &v)) return bad("NCCL_SHM_DISABLE", s, "an integer");
    k.shmDisable = v == 1;
  }
  s = lookup("NCCL_NET_GDR_LEVEL");
  if (s) {
    k.netGdrLevel = parseLevel(s, release);
    if (!k.netGdrLevel) return bad("NCCL_NET_GDR_LEVEL", s, levelChoices(release));
  }
  s = lookup("NCCL_NET_GDR_READ");
  if (s) {
    if (!parseInt(s, &v)) return bad("NCCL_NET_GDR_READ", s, "an integer");
    k.netGdrRead = static_cast<int>(v);
  }
  for (auto [name, field] : {std::pair{"NCCL_MIN_NCHANNELS", &k.minChannels},
                             std::pair{"NCCL_MAX_NCHANNELS", &k.maxChannels}}) {
    s = lookup(name);
    if (!s) continue;
    if (!parseInt(s, &v)) return bad(name, s, "an integer");
    *field = static_cast<int>(v);
  }
  *out = k;
  return true;
}

std::string describeKnobs(const Knobs& k) {
  std::ostringstream out;
  auto add = [&](const char* name, const std::string& value) {
    out << (out.tellp() > 0 ? " " : "") << name << "=" << value;
  };
  if (k.p2pLevel) add("NCCL_P2P_LEVEL", std::string(pathTypeName(*k.p2pLevel)));
  if (k.shmDisable) add("NCCL_SHM_DISABLE", "1");
  if (k.netGdrLevel) add("NCCL_NET_GDR_LEVEL", std::string(pathTypeName(*k.netGdrLevel)));
  if (k.netGdrRead) add("NCCL_NET_GDR_READ", std::to_string(*k.netGdrRead));
  if (k.minChannels) add("NCCL_MIN_NCHANNELS", std::to_string(*k.minChannels));
  if (k.maxChannels) add("NCCL_MAX_NCHANNELS", std::to_string(*k.maxChannels));
  return out.str();
}

NodeBaseline buildNodeBaseline(const topo::Topology& topo, std::span<const int> gpus, int nodes,
                               Release release, const Knobs& knobs) {
  NodeBaseline b;
  b.release = release;
  const bool multi = nodes > 1;
  if (multi && topo.nics.empty()) {
    b.unsupported = "the node has no NIC, so NCCL cannot connect it to other nodes";
    return b;
  }
  System sys(topo, gpus, multi, release, knobs);
  const int ng = sys.gpuCount();
  auto topoGpu = [&](int g) { return sys.node(sys.gpuNode(g)).device; };
  const CpuKind cpu = sys.cpu();
  b.notes.push_back(std::string(releaseName(release)) + ": CPU " +
                    (cpu.vendor == CpuVendor::kAmd     ? "AMD"
                     : cpu.vendor == CpuVendor::kIntel ? "Intel"
                                                       : "other") +
                    ", P2P up to " +
                    std::string(pathTypeName(static_cast<PathType>(sys.p2pLevel()))) +
                    (knobs.p2pLevel ? " (NCCL_P2P_LEVEL/NCCL_P2P_DISABLE)" : "") +
                    (topo.p2pSupported ? "" : "; the driver allows no P2P"));

  // Per ordered pair: the transport NCCL picks.
  std::vector<Hop> hop(ng * ng);
  for (int a = 0; a < ng; ++a)
    for (int c = 0; c < ng; ++c) {
      if (a == c) continue;
      if (sys.netBeatsIntra(a, c) || (!sys.p2p(a, c) && knobs.shmDisable)) {
        b.unsupported = "NCCL would connect GPUs " + std::to_string(topoGpu(a)) + " and " +
                        std::to_string(topoGpu(c)) +
                        " of one node through its network transport, which no plan can express";
        return b;
      }
      Hop& h = hop[a * ng + c];
      if (sys.p2p(a, c)) {
        h.kind = HopKind::kP2pWrite;  // P2P reads are for NVLink on SM80 only (p2p.cc)
      } else {
        h.kind = HopKind::kHostBounce;  // SHM: the receiver allocates and touches the buffer
        h.numa = topo.gpus[topoGpu(c)].numa;
      }
    }

  RingGraph graph = searchRings(sys);
  b.searchChannels = graph.nChannels;
  b.searchGbps = graph.bwIntra;
  {
    std::ostringstream line;
    line << "search: " << graph.nChannels << " ring(s) at " << graph.bwIntra
         << " GB/s, paths up to " << pathTypeName(graph.typeIntra);
    if (graph.fallback) line << " (nothing fits: NCCL's fallback, GPUs in order)";
    b.notes.push_back(line.str());
  }

  // connect.cc (ncclTopoPostset): every channel is duplicated, then the user's limits apply.
  const int maxCh = maxChannelsOf(release);
  int n = std::min(maxCh, graph.nChannels * 2);
  if (sys.minCompCap() >= 90 && multi && graph.bwIntra > 45 &&
      (release == Release::k2_18 ? 2 * n <= maxCh : n < 16))
    n *= 2;
  int maxUser = std::min(knobs.maxChannels.value_or(maxCh), maxCh);
  maxUser = std::max(maxUser, 1);
  const int minUser = std::clamp(knobs.minChannels.value_or(0), 0, maxCh);
  const int kept = std::min(n, maxUser);
  const int total = std::max(kept, minUser);
  b.notes.push_back(
      "connect.cc: " + std::to_string(graph.nChannels) + " ring(s) doubled to " +
      std::to_string(n) + " channel(s)" +
      (total != n ? ", " + std::to_string(total) + " with NCCL_MIN_NCHANNELS/NCCL_MAX_NCHANNELS"
                  : ""));

  for (int c = 0; c < total; ++c) {
    const int ring = (c % kept) % graph.nChannels;
    ChannelBaseline ch;
    const std::vector<int>& order = graph.rings[ring];
    for (int g : order) ch.order.push_back(topoGpu(g));
    const int hops = multi ? ng - 1 : (ng > 1 ? ng : 0);
    for (int i = 0; i < hops; ++i) ch.hops.push_back(hop[order[i] * ng + order[(i + 1) % ng]]);
    if (multi) {
      const int first = order.front(), last = order.back();
      ch.entry = {.kind = HopKind::kNet, .nic = 0, .gpuDirect = sys.gdr(first, 0, false)};
      ch.exit = {.kind = HopKind::kNet, .nic = 0, .gpuDirect = sys.gdr(last, 0, true)};
      if (!ch.entry.gpuDirect) ch.entry.numa = topo.gpus[topoGpu(first)].numa;
      if (!ch.exit.gpuDirect) ch.exit.numa = topo.gpus[topoGpu(last)].numa;
      // Identical nodes: the entry's peer is the previous node's exit, and back.
      ch.entry.peerGpuDirect = ch.exit.gpuDirect;
      ch.exit.peerGpuDirect = ch.entry.gpuDirect;
    }
    b.channels.push_back(std::move(ch));
  }
  if (multi) {
    std::ostringstream line;
    line << "GPU-direct RDMA (NCCL_NET_GDR_LEVEL "
         << pathTypeName(knobs.netGdrLevel.value_or(PathType::kPxb)) << "):";
    for (int g = 0; g < ng; ++g)
      line << " GPU" << topoGpu(g) << " recv " << (sys.gdr(g, 0, false) ? "gdr" : "staged")
           << " send " << (sys.gdr(g, 0, true) ? "gdr" : "staged");
    b.notes.push_back(line.str());
  }
  return b;
}

std::string describeBaseline(const NodeBaseline& b) {
  if (!b.unsupported.empty()) return "unsupported: " + b.unsupported;
  std::ostringstream out;
  // Runs of identical channels are written once with a count.
  for (size_t c = 0; c < b.channels.size();) {
    size_t same = 1;
    auto equal = [](const ChannelBaseline& x, const ChannelBaseline& y) {
      return x.order == y.order && x.hops == y.hops && x.entry == y.entry && x.exit == y.exit;
    };
    while (c + same < b.channels.size() && equal(b.channels[c], b.channels[c + same])) ++same;
    const ChannelBaseline& ch = b.channels[c];
    const bool chain = ch.entry.kind == HopKind::kNet;
    if (out.tellp() > 0) out << " | ";
    out << same << "x ";
    if (chain) out << "[" << describeHop(ch.entry) << "] ";
    for (size_t i = 0; i < ch.order.size(); ++i) {
      out << ch.order[i];
      if (i < ch.hops.size()) out << " -" << hopName(ch.hops[i]) << "-> ";
    }
    if (chain)
      out << " [" << describeHop(ch.exit) << "]";
    else if (!ch.hops.empty())
      out << ch.order.front();
    c += same;
  }
  return out.str();
}

}  // namespace tccl::nccl
