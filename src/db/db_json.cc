// JSON <-> Database. Decoding checks types and shapes (with the JSON path of the offending
// element); db_validate.cc checks meaning.
#include "db/db_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "base/text_file.h"
#include "db/db_validate.h"
#include "plan/plan.h"

namespace tccl::db {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxDepth = 64;
// No object of the format has more than a dozen keys. The cap also keeps ordered_json's
// insertion (a linear search per key) from turning a flood of keys into a quadratic parse.
constexpr size_t kMaxKeysPerObject = 64;

struct DbError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DbError(path.empty() ? what : path + ": " + what);
}

std::string typeOf(const Json& j) {
  if (j.is_number_integer() || j.is_number_unsigned()) return "integer " + j.dump();
  if (j.is_number_float()) return "number " + j.dump();
  if (j.is_string()) return "string";
  return j.type_name();
}

// ---------------------------------------------------------------- decoding helpers

void expectObject(const Json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "expected an object, got " + typeOf(j));
}

void expectArray(const Json& j, const std::string& path, size_t maxSize) {
  if (!j.is_array()) fail(path, "expected an array, got " + typeOf(j));
  if (j.size() > maxSize)
    fail(path, "too many elements (" + std::to_string(j.size()) + ", at most " +
                   std::to_string(maxSize) + ")");
}

void checkKeys(const Json& obj, const std::string& path, std::initializer_list<const char*> known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) fail(path + "." + it.key(), "unknown key '" + it.key() + "'");
  }
}

const Json* optField(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const Json& field(const Json& obj, const std::string& path, const char* key) {
  const Json* j = optField(obj, key);
  if (!j) fail(path, std::string("missing required key '") + key + "'");
  return *j;
}

std::string asString(const Json& j, const std::string& path) {
  if (!j.is_string()) fail(path, "expected a string, got " + typeOf(j));
  return j.get<std::string>();
}

int asInt(const Json& j, const std::string& path) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int>::max()))
      fail(path, "integer " + j.dump() + " out of range");
    return static_cast<int>(j.get<uint64_t>());
  }
  if (!j.is_number_integer()) fail(path, "expected an integer, got " + typeOf(j));
  const int64_t v = j.get<int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    fail(path, "integer " + j.dump() + " out of range");
  return static_cast<int>(v);
}

double asNumber(const Json& j, const std::string& path) {
  if (!j.is_number()) fail(path, "expected a number, got " + typeOf(j));
  return j.get<double>();
}

bool asBool(const Json& j, const std::string& path) {
  if (!j.is_boolean()) fail(path, "expected true or false, got " + typeOf(j));
  return j.get<bool>();
}

std::string idx(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::vector<int> asIntArray(const Json& j, const std::string& path, size_t maxSize) {
  expectArray(j, path, maxSize);
  std::vector<int> out;
  for (size_t i = 0; i < j.size(); ++i) out.push_back(asInt(j[i], idx(path, i)));
  return out;
}

// ---------------------------------------------------------------- decoding

Hop decodeHop(const Json& j, const std::string& path) {
  expectObject(j, path);
  checkKeys(j, path, {"kind", "engine", "readEngine", "numa", "nic", "gpuDirect", "peerGpuDirect"});
  Hop hop;
  const std::string kind = asString(field(j, path, "kind"), path + ".kind");
  auto k = parseHopKind(kind);
  if (!k)
    fail(path + ".kind",
         "unknown hop kind '" + kind + "' (known: p2p_write, p2p_read, host_bounce, net, shm)");
  hop.kind = *k;
  for (auto [key, dst] : {std::pair{"engine", &hop.engine}, {"readEngine", &hop.readEngine}}) {
    if (const Json* e = optField(j, key)) {
      const std::string name = asString(*e, path + "." + key);
      auto eng = parseEngine(name);
      if (!eng)
        fail(path + "." + key, "unknown engine '" + name + "' (known: kernel, copy_engine)");
      *dst = *eng;
    }
  }
  if (const Json* v = optField(j, "numa")) hop.numa = asInt(*v, path + ".numa");
  if (const Json* v = optField(j, "nic")) hop.nic = asInt(*v, path + ".nic");
  if (const Json* v = optField(j, "gpuDirect")) hop.gpuDirect = asBool(*v, path + ".gpuDirect");
  if (const Json* v = optField(j, "peerGpuDirect"))
    hop.peerGpuDirect = asBool(*v, path + ".peerGpuDirect");
  return hop;
}

Channel decodeChannel(const Json& j, const std::string& path) {
  expectObject(j, path);
  checkKeys(j, path, {"order", "hops", "gbps"});
  Channel ch;
  ch.order = asIntArray(field(j, path, "order"), path + ".order", kMaxGpusPerNode);
  const Json& hops = field(j, path, "hops");
  expectArray(hops, path + ".hops", kMaxGpusPerNode);
  for (size_t i = 0; i < hops.size(); ++i)
    ch.hops.push_back(decodeHop(hops[i], idx(path + ".hops", i)));
  ch.gbps = asNumber(field(j, path, "gbps"), path + ".gbps");
  return ch;
}

std::vector<Channel> decodeChannels(const Json& obj, const std::string& path) {
  const Json& arr = field(obj, path, "channels");
  expectArray(arr, path + ".channels", kMaxChannels);
  std::vector<Channel> out;
  for (size_t i = 0; i < arr.size(); ++i)
    out.push_back(decodeChannel(arr[i], idx(path + ".channels", i)));
  return out;
}

NodeSignature decodeSignature(const Json& j, const std::string& path) {
  expectObject(j, path);
  checkKeys(j, path, {"cpuModel", "numaCount", "gpus", "nics"});
  NodeSignature sig;
  sig.cpuModel = asString(field(j, path, "cpuModel"), path + ".cpuModel");
  sig.numaCount = asInt(field(j, path, "numaCount"), path + ".numaCount");
  const Json& gpus = field(j, path, "gpus");
  expectArray(gpus, path + ".gpus", kMaxGpusPerNode);
  for (size_t i = 0; i < gpus.size(); ++i) {
    const std::string p = idx(path + ".gpus", i);
    expectObject(gpus[i], p);
    checkKeys(gpus[i], p, {"busId", "model", "numa"});
    GpuSignature g;
    g.busId = asString(field(gpus[i], p, "busId"), p + ".busId");
    g.model = asString(field(gpus[i], p, "model"), p + ".model");
    g.numa = asInt(field(gpus[i], p, "numa"), p + ".numa");
    sig.gpus.push_back(std::move(g));
  }
  if (const Json* nics = optField(j, "nics")) {
    expectArray(*nics, path + ".nics", kMaxNicsPerNode);
    for (size_t i = 0; i < nics->size(); ++i) {
      const std::string p = idx(path + ".nics", i);
      const Json& n = (*nics)[i];
      expectObject(n, p);
      checkKeys(n, p, {"name", "numa"});
      sig.nics.push_back(
          {asString(field(n, p, "name"), p + ".name"), asInt(field(n, p, "numa"), p + ".numa")});
    }
  }
  return sig;
}

NodeType decodeNode(const Json& j, const std::string& path) {
  expectObject(j, path);
  checkKeys(j, path, {"name", "signature", "intra", "inter"});
  NodeType node;
  node.name = asString(field(j, path, "name"), path + ".name");
  node.signature = decodeSignature(field(j, path, "signature"), path + ".signature");
  const Json& intra = field(j, path, "intra");
  expectArray(intra, path + ".intra", 1u << 16);
  for (size_t i = 0; i < intra.size(); ++i) {
    const std::string p = idx(path + ".intra", i);
    expectObject(intra[i], p);
    checkKeys(intra[i], p, {"gpus", "gbps", "channels", "proven"});
    IntraEntry e;
    e.gpus = asIntArray(field(intra[i], p, "gpus"), p + ".gpus", kMaxGpusPerNode);
    e.gbps = asNumber(field(intra[i], p, "gbps"), p + ".gbps");
    e.channels = decodeChannels(intra[i], p);
    if (const Json* v = optField(intra[i], "proven")) e.proven = asBool(*v, p + ".proven");
    node.intra.push_back(std::move(e));
  }
  if (const Json* inter = optField(j, "inter")) {
    expectArray(*inter, path + ".inter", 1u << 20);
    for (size_t i = 0; i < inter->size(); ++i) {
      const std::string p = idx(path + ".inter", i);
      const Json& o = (*inter)[i];
      expectObject(o, p);
      checkKeys(o, p, {"gpus", "entry", "exit", "gbps", "channels", "proven"});
      InterEntry e;
      e.gpus = asIntArray(field(o, p, "gpus"), p + ".gpus", kMaxGpusPerNode);
      e.entry = decodeHop(field(o, p, "entry"), p + ".entry");
      e.exit = decodeHop(field(o, p, "exit"), p + ".exit");
      e.gbps = asNumber(field(o, p, "gbps"), p + ".gbps");
      e.channels = decodeChannels(o, p);
      if (const Json* v = optField(o, "proven")) e.proven = asBool(*v, p + ".proven");
      node.inter.push_back(std::move(e));
    }
  }
  return node;
}

Database decodeDatabase(const Json& root) {
  expectObject(root, "(document)");
  // The version decides how the rest reads, so it is checked first.
  const Json& ver = field(root, "(document)", "version");
  const int version = asInt(ver, "version");
  if (version != kDatabaseVersion)
    fail("version", "unknown database version " + std::to_string(version) +
                        " (this build reads version " + std::to_string(kDatabaseVersion) + ")");
  checkKeys(root, "", {"format", "version", "provenance", "nodes"});
  if (const Json* f = optField(root, "format")) {
    if (asString(*f, "format") != "tccl-path-database")
      fail("format", "not a TCCL path database (format is '" + f->get<std::string>() + "')");
  }
  Database db;
  db.version = version;
  const Json& prov = field(root, "(document)", "provenance");
  expectObject(prov, "provenance");
  checkKeys(prov, "provenance", {"tool", "toolVersion", "profiler", "date", "topology"});
  for (auto [key, dst] : {std::pair{"tool", &db.provenance.tool},
                          {"toolVersion", &db.provenance.toolVersion},
                          {"profiler", &db.provenance.profiler},
                          {"date", &db.provenance.date},
                          {"topology", &db.provenance.topology}}) {
    if (const Json* v = optField(prov, key)) *dst = asString(*v, std::string("provenance.") + key);
  }
  const Json& nodes = field(root, "(document)", "nodes");
  expectArray(nodes, "nodes", 4096);
  for (size_t i = 0; i < nodes.size(); ++i)
    db.nodes.push_back(decodeNode(nodes[i], idx("nodes", i)));
  return db;
}

// ---------------------------------------------------------------- raw-text checks

// Depth of [ and { outside strings; nlohmann's parser is iterative, but the decoder and
// anyone walking the tree afterwards should not see absurd nesting.
int maxNesting(std::string_view text) {
  int depth = 0, maxDepth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      maxDepth = std::max(maxDepth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return maxDepth;
}

// Tracks the JSON path during parsing so that duplicate object keys, which nlohmann would
// silently collapse, are reported, and stops the parse at an object with too many keys.
class DuplicateKeyFinder {
 public:
  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        bumpIndex();
        stack_.push_back({event == E::object_start, {}, {}, -1});
        break;
      case E::object_end:
      case E::array_end:
        if (!stack_.empty()) stack_.pop_back();
        break;
      case E::key:
        if (!stack_.empty()) {
          Level& top = stack_.back();
          top.key = parsed.get<std::string>();
          if (!top.keys.insert(top.key).second && error.empty())
            error = path() + ": duplicate key '" + top.key + "'";
          if (top.keys.size() > kMaxKeysPerObject)
            fail(path(stack_.size() - 1),
                 "object with more than " + std::to_string(kMaxKeysPerObject) + " keys");
        }
        break;
      case E::value:
        bumpIndex();
        break;
    }
    return true;
  }
  std::string error;

 private:
  struct Level {
    bool isObject;
    std::set<std::string> keys;
    std::string key;
    long index;
  };
  void bumpIndex() {
    if (!stack_.empty() && !stack_.back().isObject) ++stack_.back().index;
  }
  // The path down to the object or array at `levels` deep (all of them by default).
  std::string path(size_t levels = SIZE_MAX) const {
    std::string p;
    for (size_t i = 0; i < std::min(levels, stack_.size()); ++i) {
      const Level& l = stack_[i];
      if (!l.isObject) {
        p += '[';
        p += std::to_string(l.index);
        p += ']';
      } else {
        if (!p.empty()) p += '.';
        p += l.key;
      }
    }
    return p.empty() ? "(document)" : p;
  }
  std::vector<Level> stack_;
};

std::string stripNlohmannPrefix(std::string what) {
  if (!what.empty() && what[0] == '[') {
    auto close = what.find("] ");
    if (close != std::string::npos) what.erase(0, close + 2);
  }
  return what;
}

// ---------------------------------------------------------------- encoding

Json encodeHop(const Hop& hop) {
  Json j;
  j["kind"] = std::string(hopKindName(hop.kind));
  j["engine"] = std::string(engineName(hop.engine));
  const bool twoSided = hop.kind == HopKind::kHostBounce || hop.kind == HopKind::kNet;
  if (twoSided || hop.readEngine != Engine::kKernel)
    j["readEngine"] = std::string(engineName(hop.readEngine));
  if (twoSided || hop.numa != -1) j["numa"] = hop.numa;
  if (hop.kind == HopKind::kNet || hop.nic != -1) j["nic"] = hop.nic;
  if (hop.kind == HopKind::kNet || hop.gpuDirect) j["gpuDirect"] = hop.gpuDirect;
  if (hop.kind == HopKind::kNet || hop.peerGpuDirect) j["peerGpuDirect"] = hop.peerGpuDirect;
  return j;
}

Json encodeChannels(const std::vector<Channel>& channels) {
  Json arr = Json::array();
  for (const Channel& ch : channels) {
    Json c;
    c["order"] = ch.order;
    c["hops"] = Json::array();
    for (const Hop& h : ch.hops) c["hops"].push_back(encodeHop(h));
    c["gbps"] = ch.gbps;
    arr.push_back(std::move(c));
  }
  return arr;
}

Json encodeNode(const NodeType& node) {
  Json n;
  n["name"] = node.name;
  Json sig;
  sig["cpuModel"] = node.signature.cpuModel;
  sig["numaCount"] = node.signature.numaCount;
  sig["gpus"] = Json::array();
  for (const GpuSignature& g : node.signature.gpus)
    sig["gpus"].push_back({{"busId", g.busId}, {"model", g.model}, {"numa", g.numa}});
  sig["nics"] = Json::array();
  for (const NicSignature& nic : node.signature.nics)
    sig["nics"].push_back({{"name", nic.name}, {"numa", nic.numa}});
  n["signature"] = std::move(sig);
  n["intra"] = Json::array();
  for (const IntraEntry& e : node.intra) {
    Json j;
    j["gpus"] = e.gpus;
    j["gbps"] = e.gbps;
    j["channels"] = encodeChannels(e.channels);
    if (!e.proven) j["proven"] = false;
    n["intra"].push_back(std::move(j));
  }
  n["inter"] = Json::array();
  for (const InterEntry& e : node.inter) {
    Json j;
    j["gpus"] = e.gpus;
    j["entry"] = encodeHop(e.entry);
    j["exit"] = encodeHop(e.exit);
    j["gbps"] = e.gbps;
    j["channels"] = encodeChannels(e.channels);
    if (!e.proven) j["proven"] = false;
    n["inter"].push_back(std::move(j));
  }
  return n;
}

}  // namespace

LoadResult parseDatabase(std::string_view jsonText) {
  LoadResult result;
  if (jsonText.size() > kMaxInputFileBytes) {
    result.error =
        "malformed JSON: document larger than " + std::to_string(kMaxInputFileBytes >> 20) + " MiB";
    return result;
  }
  if (jsonText.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    result.error = "malformed JSON: empty document";
    return result;
  }
  if (maxNesting(jsonText) > kMaxDepth) {
    result.error = "malformed JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return result;
  }
  Json root;
  DuplicateKeyFinder dups;
  try {
    root = Json::parse(jsonText, std::ref(dups));
  } catch (const DbError& e) {
    result.error = e.what();
    return result;
  } catch (const Json::exception& e) {
    result.error = "malformed JSON: " + stripNlohmannPrefix(e.what());
    return result;
  } catch (const std::exception& e) {  // std::bad_alloc: the caller learns, the host lives
    result.error = std::string("cannot parse: ") + e.what();
    return result;
  }
  if (!dups.error.empty()) {
    result.error = dups.error;
    return result;
  }
  try {
    Database db = decodeDatabase(root);
    result.error = validateDatabase(db);
    if (result.error.empty()) result.db = std::move(db);
  } catch (const DbError& e) {
    result.error = e.what();
  } catch (const Json::exception& e) {
    result.error = stripNlohmannPrefix(e.what());
  } catch (const std::exception& e) {
    result.error = std::string("cannot load: ") + e.what();
  }
  return result;
}

LoadResult loadDatabaseFile(const std::string& path) {
  LoadResult result;
  std::string text;
  if (!readTextFile(path, &text, &result.error)) return result;
  result = parseDatabase(text);
  if (!result.error.empty()) result.error = path + ": " + result.error;
  return result;
}

std::string toJsonText(const Database& db) {
  Json root;
  root["format"] = "tccl-path-database";
  root["version"] = db.version;
  root["provenance"] = {{"tool", db.provenance.tool},
                        {"toolVersion", db.provenance.toolVersion},
                        {"profiler", db.provenance.profiler},
                        {"date", db.provenance.date},
                        {"topology", db.provenance.topology}};
  root["nodes"] = Json::array();
  for (const NodeType& node : db.nodes) root["nodes"].push_back(encodeNode(node));
  // Names from hardware probes might not be valid UTF-8; never throw while writing.
  return root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace tccl::db
