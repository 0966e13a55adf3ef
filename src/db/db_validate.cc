#include "db/db_validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <tuple>

#include "plan/plan.h"

namespace tccl::db {
namespace {

struct Invalid {
  std::string message;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Invalid{path + ": " + what};
}

std::string idx(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void checkGbps(double gbps, const std::string& path, bool allowZero) {
  if (std::isnan(gbps)) fail(path, "bandwidth is NaN");
  if (gbps < 0) fail(path, "negative bandwidth " + num(gbps) + " GB/s");
  if (!allowZero && gbps == 0) fail(path, "bandwidth must be positive");
  if (!std::isfinite(gbps) || gbps > kMaxGbps)
    fail(path, "absurd bandwidth " + num(gbps) + " GB/s (at most " + num(kMaxGbps) + ")");
}

void checkNuma(int numa, const NodeSignature& sig, const std::string& path, bool allowUnknown) {
  if (allowUnknown && numa == -1) return;
  if (numa < 0 || numa >= sig.numaCount)
    fail(path, "NUMA node " + std::to_string(numa) + " out of range (node has " +
                   std::to_string(sig.numaCount) + " NUMA nodes)");
}

void checkSubset(const std::vector<int>& gpus, const NodeSignature& sig, const std::string& path) {
  if (gpus.empty()) fail(path, "empty GPU subset");
  const int n = static_cast<int>(sig.gpus.size());
  for (size_t i = 0; i < gpus.size(); ++i) {
    if (gpus[i] < 0 || gpus[i] >= n)
      fail(idx(path, i), "GPU index " + std::to_string(gpus[i]) + " out of range (node has " +
                             std::to_string(n) + " GPUs)");
    if (i > 0 && gpus[i] <= gpus[i - 1])
      fail(path, "GPU subset " + listGpus(gpus) + " must be ascending without repeats");
  }
}

// `order` must visit each GPU of `subset` exactly once.
void checkVisitsOnce(const std::vector<int>& order, const std::vector<int>& subset,
                     const std::string& path) {
  std::set<int> seen;
  for (size_t i = 0; i < order.size(); ++i) {
    if (!std::binary_search(subset.begin(), subset.end(), order[i]))
      fail(idx(path, i),
           "GPU " + std::to_string(order[i]) + " is not in the subset " + listGpus(subset));
    if (!seen.insert(order[i]).second)
      fail(idx(path, i), "GPU " + std::to_string(order[i]) + " visited twice");
  }
  for (int g : subset)
    if (!seen.count(g))
      fail(path, "does not visit GPU " + std::to_string(g) + " of the subset " + listGpus(subset));
}

void checkEngine(Engine e, const std::string& path) {
  if (e != Engine::kKernel && e != Engine::kCopyEngine) fail(path, "unknown engine");
}

void checkHop(const Hop& hop, const NodeSignature& sig, const std::string& path, bool net) {
  checkEngine(hop.engine, path + ".engine");
  checkEngine(hop.readEngine, path + ".readEngine");
  switch (hop.kind) {
    case HopKind::kP2pWrite:
    case HopKind::kP2pRead:
      if (net) fail(path + ".kind", "entry/exit hops must be of kind 'net'");
      if (hop.numa != -1) checkNuma(hop.numa, sig, path + ".numa", false);
      break;
    case HopKind::kHostBounce:
      if (net) fail(path + ".kind", "entry/exit hops must be of kind 'net'");
      if (hop.numa == -1) fail(path + ".numa", "host_bounce hop needs a NUMA node");
      checkNuma(hop.numa, sig, path + ".numa", false);
      break;
    case HopKind::kNet: {
      if (!net) fail(path + ".kind", "hop kind 'net' is only allowed as an entry or exit hop");
      const int nNics = static_cast<int>(sig.nics.size());
      if (hop.nic != -1 && (hop.nic < 0 || hop.nic >= nNics))
        fail(path + ".nic", "NIC index " + std::to_string(hop.nic) + " out of range (node has " +
                                std::to_string(nNics) + " NICs; -1 means any)");
      if (!hop.gpuDirect && hop.numa == -1)
        fail(path + ".numa", "a net hop without gpuDirect needs a staging NUMA node");
      if (hop.numa != -1) checkNuma(hop.numa, sig, path + ".numa", false);
      break;
    }
    case HopKind::kShm:
      fail(path + ".kind", "hop kind 'shm' belongs to the default plan, not to a database");
    default:
      fail(path + ".kind", "unknown hop kind");
  }
}

void checkChannel(const Channel& ch, const std::vector<int>& subset, const NodeSignature& sig,
                  const std::string& path, bool chain) {
  checkVisitsOnce(ch.order, subset, path + ".order");
  const size_t n = ch.order.size();
  const size_t want = chain ? n - 1 : (n == 1 ? 0 : n);
  if (ch.hops.size() != want)
    fail(path + ".hops", std::string(chain ? "a chain" : "a ring") + " over " + std::to_string(n) +
                             " GPUs needs " + std::to_string(want) + " hops, found " +
                             std::to_string(ch.hops.size()));
  for (size_t i = 0; i < ch.hops.size(); ++i)
    checkHop(ch.hops[i], sig, idx(path + ".hops", i), false);
  checkGbps(ch.gbps, path + ".gbps", true);
}

void checkChannelCount(size_t n, const std::string& path) {
  if (n == 0) fail(path, "an entry needs at least one channel");
  if (n > static_cast<size_t>(kMaxChannels))
    fail(path, std::to_string(n) + " channels, at most " + std::to_string(kMaxChannels));
}

void checkSignature(const NodeSignature& sig, const std::string& path) {
  if (sig.numaCount < 1 || sig.numaCount > kMaxNumaNodes)
    fail(path + ".numaCount", "NUMA node count " + std::to_string(sig.numaCount) +
                                  " out of range (1.." + std::to_string(kMaxNumaNodes) + ")");
  if (sig.gpus.empty()) fail(path + ".gpus", "a node type needs at least one GPU");
  if (sig.gpus.size() > kMaxGpusPerNode) fail(path + ".gpus", "too many GPUs");
  std::set<std::string> busIds, nicNames;
  for (size_t i = 0; i < sig.gpus.size(); ++i) {
    const std::string p = idx(path + ".gpus", i);
    checkNuma(sig.gpus[i].numa, sig, p + ".numa", true);
    if (!sig.gpus[i].busId.empty() && !busIds.insert(sig.gpus[i].busId).second)
      fail(p + ".busId", "duplicate GPU bus id '" + sig.gpus[i].busId + "'");
  }
  for (size_t i = 0; i < sig.nics.size(); ++i) {
    const std::string p = idx(path + ".nics", i);
    checkNuma(sig.nics[i].numa, sig, p + ".numa", true);
    if (!nicNames.insert(sig.nics[i].name).second)
      fail(p + ".name", "duplicate NIC name '" + sig.nics[i].name + "'");
  }
}

void checkNode(const NodeType& node, const std::string& path) {
  if (node.name.empty()) fail(path + ".name", "empty node type name");
  checkSignature(node.signature, path + ".signature");
  const NodeSignature& sig = node.signature;
  std::set<std::vector<int>> intraSubsets;
  for (size_t i = 0; i < node.intra.size(); ++i) {
    const IntraEntry& e = node.intra[i];
    const std::string p = idx(path + ".intra", i);
    checkSubset(e.gpus, sig, p + ".gpus");
    if (!intraSubsets.insert(e.gpus).second)
      fail(p + ".gpus", "duplicate intra entry for GPU subset " + listGpus(e.gpus));
    checkGbps(e.gbps, p + ".gbps", false);
    checkChannelCount(e.channels.size(), p + ".channels");
    for (size_t c = 0; c < e.channels.size(); ++c)
      checkChannel(e.channels[c], e.gpus, sig, idx(p + ".channels", c), false);
  }
  std::set<std::tuple<std::vector<int>, std::string, std::string>> interKeys;
  for (size_t i = 0; i < node.inter.size(); ++i) {
    const InterEntry& e = node.inter[i];
    const std::string p = idx(path + ".inter", i);
    checkSubset(e.gpus, sig, p + ".gpus");
    checkHop(e.entry, sig, p + ".entry", true);
    checkHop(e.exit, sig, p + ".exit", true);
    // describeHop does not show every field, so key on all of them.
    auto hopKey = [](const Hop& h) {
      std::ostringstream k;
      k << static_cast<int>(h.kind) << '/' << static_cast<int>(h.engine) << '/'
        << static_cast<int>(h.readEngine) << '/' << h.numa << '/' << h.nic << '/' << h.gpuDirect
        << '/' << h.peerGpuDirect;
      return k.str();
    };
    if (!interKeys.insert({e.gpus, hopKey(e.entry), hopKey(e.exit)}).second)
      fail(p, "duplicate inter entry for GPU subset " + listGpus(e.gpus) + ", entry " +
                  describeHop(e.entry) + ", exit " + describeHop(e.exit));
    checkGbps(e.gbps, p + ".gbps", false);
    checkChannelCount(e.channels.size(), p + ".channels");
    for (size_t c = 0; c < e.channels.size(); ++c) {
      const std::string cp = idx(p + ".channels", c);
      checkChannel(e.channels[c], e.gpus, sig, cp, true);
      // One entry hop and one exit hop per entry: every chain shares its endpoints.
      const Channel& first = e.channels[0];
      const Channel& ch = e.channels[c];
      if (ch.order.front() != first.order.front() || ch.order.back() != first.order.back())
        fail(cp + ".order", "chain runs " + std::to_string(ch.order.front()) + " -> " +
                                std::to_string(ch.order.back()) + " but channel 0 runs " +
                                std::to_string(first.order.front()) + " -> " +
                                std::to_string(first.order.back()) +
                                " (all chains of an entry share the entry and exit GPU)");
    }
  }
}

}  // namespace

std::string validateDatabase(const Database& db) {
  try {
    if (db.version != kDatabaseVersion)
      fail("version", "unknown database version " + std::to_string(db.version));
    if (db.nodes.empty()) fail("nodes", "the database has no node types");
    std::set<std::string> names;
    for (size_t i = 0; i < db.nodes.size(); ++i) {
      checkNode(db.nodes[i], idx("nodes", i));
      if (!names.insert(db.nodes[i].name).second)
        fail(idx("nodes", i) + ".name", "duplicate node type name '" + db.nodes[i].name + "'");
    }
  } catch (const Invalid& e) {
    return e.message;
  }
  return "";
}

}  // namespace tccl::db
