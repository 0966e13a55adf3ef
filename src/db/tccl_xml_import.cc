// TCCL's XML database -> our Database. TCCL lists the transfers of a ring or chain one by one;
// a host bounce is a CPUMEM write by GPU a into NUMA node k followed by a CPUMEM read of k by
// GPU b. Inter-node entries carry head (entering) and tail (leaving) transfers named
// <sender>_<receiver>_INTER, GPU meaning GPU-direct on that side.
#include "db/tccl_xml_import.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include <pugixml.hpp>

#include "base/text_file.h"
#include "db/db_validate.h"

#ifndef TCCL_DB_TOOL_VERSION
#define TCCL_DB_TOOL_VERSION "unknown"
#endif

namespace tccl::db {
namespace {

struct ImportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ImportError(path + ": " + what);
}

constexpr int kMaxXmlGpus = 63;  // subsets are bit masks

// ---------------------------------------------------------------- attributes

std::string attrText(const pugi::xml_node& node, const char* name, const std::string& path) {
  pugi::xml_attribute a = node.attribute(name);
  if (!a) fail(path, std::string("missing attribute '") + name + "'");
  return a.value();
}

// The whole text as a T: std::errc() on success, result_out_of_range, or invalid_argument.
template <typename T>
std::errc parseNumber(const std::string& text, T* v) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *v);
  return ec == std::errc() && ptr != end ? std::errc::invalid_argument : ec;
}

// The attribute as a T; fails when it is not one or does not fit.
template <typename T>
T attrNumber(const pugi::xml_node& node, const char* name, const std::string& path) {
  constexpr bool kInteger = std::is_integral_v<T>;
  const std::string text = attrText(node, name, path);
  const std::string what = std::string("attribute ") + name + "='" + text + "'";
  T v = 0;
  const std::errc ec = parseNumber(text, &v);
  if (ec == std::errc::result_out_of_range)
    fail(path, what + (kInteger ? " is out of range" : ": absurd bandwidth"));
  if (ec != std::errc()) fail(path, what + (kInteger ? " is not an integer" : " is not a number"));
  return v;
}

int64_t attrInt(const pugi::xml_node& node, const char* name, const std::string& path) {
  return attrNumber<int64_t>(node, name, path);
}

// A bandwidth in GB/s: positive and not absurd.
double attrGbps(const pugi::xml_node& node, const char* name, const std::string& path) {
  const double v = attrNumber<double>(node, name, path);
  const std::string text = node.attribute(name).value();
  if (std::isnan(v)) fail(path, "bandwidth is NaN");
  if (v <= 0) fail(path, "bandwidth " + text + " GB/s is not positive");
  if (!std::isfinite(v) || v > kMaxGbps) fail(path, "absurd bandwidth " + text + " GB/s");
  return v;
}

// ---------------------------------------------------------------- transfers

enum class Move { kP2p, kCpuWrite, kCpuRead };

struct Transfer {
  Move move;
  HopKind p2pKind = HopKind::kP2pWrite;
  Engine engine;
  int src;  // GPU, or NUMA node for a CPUMEM read
  int dst;  // GPU, or NUMA node for a CPUMEM write
  std::string path;
};

struct Limits {
  int nGpus;
  int nNuma;
  uint64_t mask;  // the subset
};

void checkGpu(int gpu, const Limits& lim, const std::string& path, const char* what) {
  if (gpu < 0 || gpu >= lim.nGpus)
    fail(path, std::string(what) + " GPU index " + std::to_string(gpu) + " out of range (" +
                   std::to_string(lim.nGpus) + " GPUs)");
  if (!(lim.mask >> gpu & 1))
    fail(path, std::string(what) + " GPU " + std::to_string(gpu) + " is not in the subset");
}

void checkNuma(int numa, const Limits& lim, const std::string& path) {
  if (numa < 0 || numa >= lim.nNuma)
    fail(path, "NUMA node " + std::to_string(numa) + " out of range (" + std::to_string(lim.nNuma) +
                   " NUMA nodes)");
}

int smallInt(int64_t v, const std::string& path, const char* name) {
  if (v < -1 || v > 1 << 20)
    fail(path, std::string(name) + "=" + std::to_string(v) + " out of range");
  return static_cast<int>(v);
}

Transfer parseTransfer(const pugi::xml_node& node, const Limits& lim, const std::string& path) {
  const std::string type = attrText(node, "type", path);
  Transfer t;
  t.path = path;
  t.src = smallInt(attrInt(node, "src_idx", path), path, "src_idx");
  t.dst = smallInt(attrInt(node, "dst_idx", path), path, "dst_idx");
  static const std::map<std::string, std::tuple<Move, HopKind, Engine>> kTypes = {
      {"GPU_READ_CPUMEM_KERNEL", {Move::kCpuRead, HopKind::kHostBounce, Engine::kKernel}},
      {"GPU_READ_CPUMEM_MEMCPY", {Move::kCpuRead, HopKind::kHostBounce, Engine::kCopyEngine}},
      {"GPU_WRITE_CPUMEM_KERNEL", {Move::kCpuWrite, HopKind::kHostBounce, Engine::kKernel}},
      {"GPU_WRITE_CPUMEM_MEMCPY", {Move::kCpuWrite, HopKind::kHostBounce, Engine::kCopyEngine}},
      {"GPU_READ_GPUMEM_KERNEL", {Move::kP2p, HopKind::kP2pRead, Engine::kKernel}},
      {"GPU_READ_GPUMEM_MEMCPY", {Move::kP2p, HopKind::kP2pRead, Engine::kCopyEngine}},
      {"GPU_WRITE_GPUMEM_KERNEL", {Move::kP2p, HopKind::kP2pWrite, Engine::kKernel}},
      {"GPU_WRITE_GPUMEM_MEMCPY", {Move::kP2p, HopKind::kP2pWrite, Engine::kCopyEngine}},
  };
  auto it = kTypes.find(type);
  if (it == kTypes.end())
    fail(path, "unknown transfer type '" + type +
                   "' (expected GPU_{READ,WRITE}_{CPUMEM,GPUMEM}_"
                   "{KERNEL,MEMCPY})");
  std::tie(t.move, t.p2pKind, t.engine) = it->second;
  switch (t.move) {
    case Move::kP2p:
      checkGpu(t.src, lim, path + " (src_idx)", "source");
      checkGpu(t.dst, lim, path + " (dst_idx)", "destination");
      break;
    case Move::kCpuWrite:
      checkGpu(t.src, lim, path + " (src_idx)", "writing");
      checkNuma(t.dst, lim, path + " (dst_idx)");
      break;
    case Move::kCpuRead:
      checkNuma(t.src, lim, path + " (src_idx)");
      checkGpu(t.dst, lim, path + " (dst_idx)", "reading");
      break;
  }
  return t;
}

std::vector<Transfer> parseTransfers(const pugi::xml_node& transfers, const Limits& lim,
                                     const std::string& path) {
  std::vector<Transfer> out;
  int i = 0;
  for (pugi::xml_node t : transfers.children("transfer")) {
    if (++i > 4 * kMaxXmlGpus) fail(path, "too many transfers");
    out.push_back(parseTransfer(t, lim, path + "/transfer[" + std::to_string(i) + "]"));
  }
  return out;
}

// Walks transfers [begin, end) from GPU `start`, appending GPUs to ch.order and hops to ch.hops.
// Returns the GPU it ends on.
int walk(const std::vector<Transfer>& ts, size_t begin, size_t end, int start, Channel& ch) {
  int cur = start;
  for (size_t i = begin; i < end; ++i) {
    const Transfer& t = ts[i];
    if (t.move == Move::kCpuRead)
      fail(t.path, "CPUMEM read of NUMA node " + std::to_string(t.src) +
                       " without a CPUMEM write before it");
    if (t.src != cur)
      fail(t.path, "transfer starts at GPU " + std::to_string(t.src) +
                       " but the previous one ended at GPU " + std::to_string(cur));
    Hop hop;
    if (t.move == Move::kP2p) {
      hop.kind = t.p2pKind;
      hop.engine = t.engine;
      cur = t.dst;
    } else {
      if (i + 1 >= end || ts[i + 1].move != Move::kCpuRead)
        fail(t.path, "CPUMEM write into NUMA node " + std::to_string(t.dst) +
                         " is not followed by a CPUMEM read");
      const Transfer& r = ts[++i];
      if (r.src != t.dst)
        fail(r.path, "reads NUMA node " + std::to_string(r.src) + " but GPU " +
                         std::to_string(t.src) + " wrote NUMA node " + std::to_string(t.dst));
      hop.kind = HopKind::kHostBounce;
      hop.engine = t.engine;
      hop.readEngine = r.engine;
      hop.numa = t.dst;
      cur = r.dst;
    }
    ch.hops.push_back(hop);
    ch.order.push_back(cur);
  }
  return cur;
}

void checkVisitsSubsetOnce(const std::vector<int>& order, const Limits& lim,
                           const std::string& path) {
  uint64_t seen = 0;
  for (int g : order) {
    if (seen >> g & 1) fail(path, "visits GPU " + std::to_string(g) + " twice");
    seen |= uint64_t{1} << g;
  }
  for (int g = 0; g < lim.nGpus; ++g)
    if ((lim.mask >> g & 1) && !(seen >> g & 1))
      fail(path, "does not visit GPU " + std::to_string(g) + " of the subset");
}

Channel ringFromTransfers(std::vector<Transfer> ts, const Limits& lim, const std::string& path) {
  if (ts.empty()) fail(path, "no transfers");
  // TCCL's list is cyclic: a bounce may wrap from the last transfer to the first.
  size_t lead = 0;
  while (lead < ts.size() && ts[lead].move == Move::kCpuRead) ++lead;
  if (lead == ts.size()) fail(path, "only CPUMEM reads, nothing writes");
  std::rotate(ts.begin(), ts.begin() + lead, ts.end());
  Channel ch;
  const int start = ts[0].src;
  ch.order.push_back(start);
  const int last = walk(ts, 0, ts.size(), start, ch);
  if (last != start)
    fail(path, "ring does not close: it ends at GPU " + std::to_string(last) + " instead of GPU " +
                   std::to_string(start));
  ch.order.pop_back();
  checkVisitsSubsetOnce(ch.order, lim, path);
  return ch;
}

struct InterTransfer {
  bool senderGpu;
  bool receiverGpu;
  int src;
  int dst;
};

InterTransfer parseInter(const pugi::xml_node& node, const char* which, const std::string& path) {
  const std::string prefix = which;
  const std::string type = attrText(node, (prefix + "_type").c_str(), path);
  InterTransfer t{};
  if (type == "GPU_GPU_INTER")
    t = {true, true, 0, 0};
  else if (type == "GPU_CPU_INTER")
    t = {true, false, 0, 0};
  else if (type == "CPU_GPU_INTER")
    t = {false, true, 0, 0};
  else if (type == "CPU_CPU_INTER")
    t = {false, false, 0, 0};
  else
    fail(path, "unknown " + prefix + "_type '" + type +
                   "' (expected GPU_GPU_INTER, GPU_CPU_INTER, CPU_GPU_INTER or CPU_CPU_INTER)");
  t.src = smallInt(attrInt(node, (prefix + "_src_idx").c_str(), path), path, "src_idx");
  t.dst = smallInt(attrInt(node, (prefix + "_dst_idx").c_str(), path), path, "dst_idx");
  return t;
}

InterEntry chainFromTransfers(const pugi::xml_node& node, const std::vector<Transfer>& ts,
                              const Limits& lim, const std::string& path) {
  const InterTransfer head = parseInter(node, "head", path);
  const InterTransfer tail = parseInter(node, "tail", path);
  InterEntry e;
  e.entry.kind = e.exit.kind = HopKind::kNet;
  // Entering: this node receives; leaving: this node sends.
  e.entry.gpuDirect = head.receiverGpu;
  e.entry.peerGpuDirect = head.senderGpu;
  e.exit.gpuDirect = tail.senderGpu;
  e.exit.peerGpuDirect = tail.receiverGpu;

  size_t begin = 0, end = ts.size();
  Channel ch;
  int first;
  if (head.receiverGpu) {
    checkGpu(head.dst, lim, path + " (head_dst_idx)", "entry");
    first = head.dst;
  } else {
    if (ts.empty() || ts[0].move != Move::kCpuRead)
      fail(path, "head " + std::string("transfer lands in host memory but the first transfer is "
                                       "not a CPUMEM read"));
    e.entry.numa = ts[0].src;
    e.entry.readEngine = ts[0].engine;
    first = ts[0].dst;
    begin = 1;
  }
  if (!tail.senderGpu) {
    if (end <= begin || ts[end - 1].move != Move::kCpuWrite)
      fail(path,
           "tail transfer leaves from host memory but the last transfer is not a CPUMEM "
           "write");
    e.exit.numa = ts[end - 1].dst;
    e.exit.engine = ts[end - 1].engine;
    --end;
  }
  ch.order.push_back(first);
  const int last = walk(ts, begin, end, first, ch);
  if (!tail.senderGpu && ts[end].src != last)
    fail(ts[end].path, "GPU " + std::to_string(ts[end].src) +
                           " writes the outgoing data but the chain ends at GPU " +
                           std::to_string(last));
  if (tail.senderGpu && tail.src != last)
    fail(path, "tail_src_idx=" + std::to_string(tail.src) + " but the chain ends at GPU " +
                   std::to_string(last) + " (inconsistent chain endpoints)");
  checkVisitsSubsetOnce(ch.order, lim, path);
  ch.gbps = 0;
  e.channels = {ch};
  return e;
}

std::vector<int> maskToGpus(uint64_t mask) {
  std::vector<int> gpus;
  for (int g = 0; g < 64; ++g)
    if (mask >> g & 1) gpus.push_back(g);
  return gpus;
}

uint64_t parseMask(const pugi::xml_node& subset, int nGpus, const std::string& path) {
  const int64_t mask = attrInt(subset, "gpus", path);
  if (mask <= 0 || (nGpus < 63 && mask >= (int64_t{1} << nGpus)))
    fail(path, "GPU subset mask gpus=" + std::to_string(mask) + " out of range for " +
                   std::to_string(nGpus) + " GPUs");
  return static_cast<uint64_t>(mask);
}

// Calls visit(transfers, limits, path, gbps) for each <transfers> of each <subset> in
// root's <section> (intra or inter).
template <typename Visit>
void forEachTransfers(const pugi::xml_node& root, const std::string& section, int64_t nGpus,
                      int64_t nNuma, Visit visit) {
  int si = 0;
  for (pugi::xml_node subset : root.child(section.c_str()).children("subset")) {
    const std::string sp = "/root/" + section + "/subset[" + std::to_string(++si) + "]";
    const Limits lim{static_cast<int>(nGpus), static_cast<int>(nNuma),
                     parseMask(subset, static_cast<int>(nGpus), sp)};
    int ti = 0;
    for (pugi::xml_node transfers : subset.children("transfers")) {
      const std::string tp = sp + "/transfers[" + std::to_string(++ti) + "]";
      visit(transfers, lim, tp, attrGbps(transfers, "gbps", tp));
    }
  }
}

std::string isoDateNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string hopKey(const Hop& h) {
  std::ostringstream k;
  k << describeHop(h) << '/' << h.gpuDirect << h.peerGpuDirect << '/' << static_cast<int>(h.engine)
    << static_cast<int>(h.readEngine);
  return k.str();
}

Database importDocument(const pugi::xml_node& root, const std::string& nodeName,
                        const std::string& sourceName) {
  const pugi::xml_node meta = root.child("metadata");
  if (!meta) fail("/root", "missing <metadata num_gpus num_numa num_bits_idx/>");
  const int64_t nGpus = attrInt(meta, "num_gpus", "/root/metadata");
  const int64_t nNuma = attrInt(meta, "num_numa", "/root/metadata");
  if (nGpus < 1 || nGpus > kMaxXmlGpus)
    fail("/root/metadata", "num_gpus=" + std::to_string(nGpus) + " out of range (1.." +
                               std::to_string(kMaxXmlGpus) + ")");
  if (nNuma < 1 || nNuma > kMaxNumaNodes)
    fail("/root/metadata", "num_numa=" + std::to_string(nNuma) + " out of range (1.." +
                               std::to_string(kMaxNumaNodes) + ")");

  NodeType node;
  node.name = nodeName;
  node.signature.numaCount = static_cast<int>(nNuma);
  node.signature.gpus.assign(nGpus, GpuSignature{"", "", -1});

  // Several <transfers> for one subset (or one key): keep the fastest.
  std::map<uint64_t, IntraEntry> intra;
  forEachTransfers(
      root, "intra", nGpus, nNuma,
      [&](const pugi::xml_node& transfers, const Limits& lim, const std::string& tp, double gbps) {
        std::vector<Transfer> ts = parseTransfers(transfers, lim, tp);
        if (ts.empty() && maskToGpus(lim.mask).size() == 1) return;  // a lone GPU has no ring
        Channel ch = ringFromTransfers(std::move(ts), lim, tp);
        ch.gbps = gbps;
        IntraEntry& e = intra[lim.mask];
        if (e.channels.empty() || gbps > e.gbps) {
          e.gpus = maskToGpus(lim.mask);
          e.gbps = gbps;
          e.channels = {ch};
        }
      });
  std::map<std::tuple<uint64_t, std::string, std::string>, InterEntry> inter;
  forEachTransfers(
      root, "inter", nGpus, nNuma,
      [&](const pugi::xml_node& transfers, const Limits& lim, const std::string& tp, double gbps) {
        InterEntry e = chainFromTransfers(transfers, parseTransfers(transfers, lim, tp), lim, tp);
        e.gpus = maskToGpus(lim.mask);
        e.gbps = e.channels[0].gbps = gbps;
        // TCCL also keys on the peer's GPU/NUMA index; our hop codes do not, so entries that
        // differ only there collapse into the fastest.
        auto key = std::make_tuple(lim.mask, hopKey(e.entry), hopKey(e.exit));
        auto [it, inserted] = inter.try_emplace(key, e);
        if (!inserted && gbps > it->second.gbps) it->second = e;
      });
  for (auto& [mask, e] : intra) node.intra.push_back(std::move(e));
  for (auto& [key, e] : inter) node.inter.push_back(std::move(e));
  if (node.intra.empty() && node.inter.empty())
    fail("/root", "no <intra> or <inter> subsets with transfers");

  Database db;
  db.provenance = {"tccl-db import", TCCL_DB_TOOL_VERSION, "tccl-xml", isoDateNow(),
                   sourceName.empty() ? "(tccl xml)" : sourceName};
  db.nodes.push_back(std::move(node));
  return db;
}

}  // namespace

LoadResult importTcclXml(std::string_view xmlText, const std::string& nodeName,
                         const std::string& sourceName) {
  LoadResult result;
  if (xmlText.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    result.error = "malformed XML: empty document";
    return result;
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(xmlText.data(), xmlText.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    const auto offset = static_cast<size_t>(std::max<ptrdiff_t>(0, parsed.offset));
    const std::string_view before = xmlText.substr(0, std::min(offset, xmlText.size()));
    const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    result.error = "malformed XML at line " + std::to_string(line) + " (byte " +
                   std::to_string(offset) + "): " + parsed.description();
    return result;
  }
  const pugi::xml_node root = doc.child("root");
  if (!root || doc.first_child() != root) {
    result.error = "not a TCCL database: the top element must be <root>";
    return result;
  }
  try {
    Database db = importDocument(root, nodeName, sourceName);
    const std::string invalid = validateDatabase(db);
    if (!invalid.empty()) {
      result.error = "imported database is invalid: " + invalid;
      return result;
    }
    result.db = std::move(db);
  } catch (const ImportError& e) {
    result.error = e.what();
  } catch (const std::exception& e) {  // std::bad_alloc: the caller learns, the host lives
    result.error = std::string("cannot import: ") + e.what();
  }
  return result;
}

LoadResult importTcclXmlFile(const std::string& path, const std::string& nodeName) {
  LoadResult result;
  std::string text;
  if (!readTextFile(path, &text, &result.error)) return result;
  const size_t slash = path.find_last_of('/');
  result =
      importTcclXml(text, nodeName, slash == std::string::npos ? path : path.substr(slash + 1));
  if (!result.error.empty()) result.error = path + ": " + result.error;
  return result;
}

}  // namespace tccl::db
