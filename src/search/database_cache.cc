#include "search/database_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "base/text_file.h"
#include "db/db_json.h"
#include "model/model_profiler.h"
#include "search/database_builder.h"

#ifndef TCCL_VERSION_STRING
#define TCCL_VERSION_STRING "0"
#endif

namespace tccl::pathfinder {
namespace {

constexpr const char* kTool = "tccl (TCCL_DB=auto)";

// Every field that changes what the search finds, numbers exactly (hex floats).
std::string fingerprintText(const topo::Topology& t) {
  std::ostringstream o;
  o << std::hexfloat << TCCL_VERSION_STRING << '|' << t.cpuModel << '|' << t.p2pSupported;
  for (const topo::Socket& s : t.sockets) o << "|s" << s.linkGbps;
  for (const topo::NumaNode& n : t.numaNodes)
    o << "|n" << n.socket << ',' << n.memoryGbps << ',' << n.fabricGbps;
  for (const topo::PcieNode& p : t.pcie)
    o << "|p" << p.id << ',' << static_cast<int>(p.kind) << ',' << p.parent << ',' << p.numa << ','
      << p.upGbps << ',' << p.downGbps;
  for (const topo::Gpu& g : t.gpus)
    o << "|g" << g.busId << ',' << g.model << ',' << g.numa << ',' << g.parent << ',' << g.upGbps
      << ',' << g.downGbps;
  for (const topo::Nic& n : t.nics)
    o << "|i" << n.name << ',' << n.numa << ',' << n.parent << ',' << n.upGbps << ',' << n.downGbps
      << ',' << n.wireGbps << ',' << n.gpuDirect;
  const topo::TransferEfficiency& e = t.efficiency;
  o << "|e" << e.p2pWrite << ',' << e.p2pRead << ',' << e.hostBounce << ',' << e.netGpuDirect << ','
    << e.netStaged;
  for (const topo::CongestionRule& r : t.congestionRules)
    o << "|r" << static_cast<int>(r.kind) << ',' << r.factor << ',' << r.readFactor << ','
      << r.writeFactor << ',' << r.minTransfers << ',' << r.remoteOnly << ','
      << static_cast<int>(r.scope);
  return o.str();
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Why a cached database cannot be used for `topo`; empty when it can.
std::string unusable(const db::Database& d, const topo::Topology& topo) {
  if (d.provenance.tool != kTool || d.provenance.toolVersion != TCCL_VERSION_STRING)
    return "written by " + d.provenance.tool + " " + d.provenance.toolVersion;
  if (d.nodes.size() != 1 || !(d.nodes[0].signature == topo::signatureOf(topo)))
    return "it describes another node";
  return "";
}

// Writes `text` to `path` through a temporary file in the same directory and a rename.
bool writeAtomically(const std::string& path, const std::string& text, std::string* error) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == text.size() && ::fsync(fd) == 0;
  const int savedErrno = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = path + ": " + std::strerror(ok ? errno : savedErrno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string defaultCacheDirectory() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/tccl";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string(home) + "/.cache/tccl";
  return "";
}

std::string cacheFileName(const topo::Topology& topo) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a(fingerprintText(topo))));
  return std::string("tccl-db-") + TCCL_VERSION_STRING + "-" + hex + ".json";
}

AutoDatabase loadOrBuildDatabase(const topo::Topology& topo, const std::string& topologyName,
                                 const std::string& cacheDir, int jobs) {
  AutoDatabase out;
  const auto start = std::chrono::steady_clock::now();
  if (!cacheDir.empty()) {
    out.path = cacheDir + "/" + cacheFileName(topo);
    std::error_code ec;
    if (std::filesystem::exists(out.path, ec)) {
      std::string text, error;
      if (!readTextFile(out.path, &text, &error)) {
        out.warnings.push_back(error + "; searching again");
      } else {
        db::LoadResult loaded = db::parseDatabase(text);
        std::string why = loaded.db ? unusable(*loaded.db, topo) : loaded.error;
        if (why.empty()) {
          out.db = std::move(loaded.db);
          out.text = std::move(text);
          out.fromCache = true;
          out.seconds = since(start);
          return out;
        }
        out.warnings.push_back(out.path + " cannot be used (" + why + "); searching again");
      }
    }
  }
  if (topo.gpus.empty()) {
    out.error = "the node has no GPUs";
    return out;
  }
  ModelProfiler profiler(topo);
  BuildOptions options;
  options.jobs = std::max(1, jobs);
  options.topologyName = topologyName;
  db::Database d = buildDatabase(topo, profiler, options, nullptr);
  d.provenance.tool = kTool;
  // No date: identical nodes then write identical files, which ranks compare by their text.
  d.provenance.date.clear();
  out.text = db::toJsonText(d);
  out.db = std::move(d);
  out.seconds = since(start);
  if (out.path.empty()) return out;
  std::error_code ec;
  std::filesystem::create_directories(cacheDir, ec);
  std::string error;
  if (ec)
    out.warnings.push_back(cacheDir + ": " + ec.message() + "; the database is not cached");
  else if (!writeAtomically(out.path, out.text, &error))
    out.warnings.push_back(error + "; the database is not cached");
  return out;
}

}  // namespace tccl::pathfinder
