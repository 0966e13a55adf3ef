// JSON <-> Database. Decoding checks types and shapes (with the JSON path of the offending
// element, base/strict_json.h); db_validate.cc checks meaning.
#include "db/db_json.h"

#include <utility>

#include "base/strict_json.h"
#include "base/text_file.h"
#include "db/db_validate.h"
#include "plan/plan.h"

namespace tccl::db {
namespace {

using Json = StrictJson;

// ---------------------------------------------------------------- decoding

Hop decodeHop(const Json& j, const std::string& path) {
  JsonObjectReader r(j, path,
                     {"kind", "engine", "readEngine", "numa", "nic", "gpuDirect", "peerGpuDirect"});
  Hop hop;
  const std::string kind = r.str("kind");
  auto k = parseHopKind(kind);
  if (!k)
    failAtJsonPath(r.at("kind"), "unknown hop kind '" + kind +
                                     "' (known: p2p_write, p2p_read, host_bounce, net, shm)");
  hop.kind = *k;
  for (auto [key, dst] : {std::pair{"engine", &hop.engine}, {"readEngine", &hop.readEngine}}) {
    if (!r.has(key)) continue;
    const std::string name = r.str(key);
    auto eng = parseEngine(name);
    if (!eng)
      failAtJsonPath(r.at(key), "unknown engine '" + name + "' (known: kernel, copy_engine)");
    *dst = *eng;
  }
  hop.numa = r.integer("numa", hop.numa);
  hop.nic = r.integer("nic", hop.nic);
  hop.gpuDirect = r.boolean("gpuDirect", hop.gpuDirect);
  hop.peerGpuDirect = r.boolean("peerGpuDirect", hop.peerGpuDirect);
  return hop;
}

Channel decodeChannel(const Json& j, const std::string& path) {
  JsonObjectReader r(j, path, {"order", "hops", "gbps"});
  Channel ch;
  ch.order = jsonIntArray(r.field("order"), r.at("order"), kMaxGpusPerNode);
  const Json& hops = r.array("hops", kMaxGpusPerNode);
  for (size_t i = 0; i < hops.size(); ++i)
    ch.hops.push_back(decodeHop(hops[i], jsonIndexPath(r.at("hops"), i)));
  ch.gbps = r.number("gbps");
  return ch;
}

std::vector<Channel> decodeChannels(const JsonObjectReader& r) {
  const Json& arr = r.array("channels", kMaxChannels);
  std::vector<Channel> out;
  for (size_t i = 0; i < arr.size(); ++i)
    out.push_back(decodeChannel(arr[i], jsonIndexPath(r.at("channels"), i)));
  return out;
}

NodeSignature decodeSignature(const Json& j, const std::string& path) {
  JsonObjectReader r(j, path, {"cpuModel", "numaCount", "gpus", "nics"});
  NodeSignature sig;
  sig.cpuModel = r.str("cpuModel");
  sig.numaCount = r.integer("numaCount");
  const Json& gpus = r.array("gpus", kMaxGpusPerNode);
  for (size_t i = 0; i < gpus.size(); ++i) {
    JsonObjectReader g(gpus[i], jsonIndexPath(r.at("gpus"), i), {"busId", "model", "numa"});
    sig.gpus.push_back({g.str("busId"), g.str("model"), g.integer("numa")});
  }
  const Json& nics = r.optionalArray("nics", kMaxNicsPerNode);
  for (size_t i = 0; i < nics.size(); ++i) {
    JsonObjectReader n(nics[i], jsonIndexPath(r.at("nics"), i), {"name", "numa"});
    sig.nics.push_back({n.str("name"), n.integer("numa")});
  }
  return sig;
}

NodeType decodeNode(const Json& j, const std::string& path) {
  JsonObjectReader r(j, path, {"name", "signature", "intra", "inter"});
  NodeType node;
  node.name = r.str("name");
  node.signature = decodeSignature(r.field("signature"), r.at("signature"));
  const Json& intra = r.array("intra", 1u << 16);
  for (size_t i = 0; i < intra.size(); ++i) {
    JsonObjectReader o(intra[i], jsonIndexPath(r.at("intra"), i),
                       {"gpus", "gbps", "channels", "proven"});
    IntraEntry e;
    e.gpus = jsonIntArray(o.field("gpus"), o.at("gpus"), kMaxGpusPerNode);
    e.gbps = o.number("gbps");
    e.channels = decodeChannels(o);
    e.proven = o.boolean("proven", e.proven);
    node.intra.push_back(std::move(e));
  }
  const Json& inter = r.optionalArray("inter", 1u << 20);
  for (size_t i = 0; i < inter.size(); ++i) {
    JsonObjectReader o(inter[i], jsonIndexPath(r.at("inter"), i),
                       {"gpus", "entry", "exit", "gbps", "channels", "proven"});
    InterEntry e;
    e.gpus = jsonIntArray(o.field("gpus"), o.at("gpus"), kMaxGpusPerNode);
    e.entry = decodeHop(o.field("entry"), o.at("entry"));
    e.exit = decodeHop(o.field("exit"), o.at("exit"));
    e.gbps = o.number("gbps");
    e.channels = decodeChannels(o);
    e.proven = o.boolean("proven", e.proven);
    node.inter.push_back(std::move(e));
  }
  return node;
}

Database decodeDatabase(const Json& root) {
  JsonObjectReader top(root, "");
  // The version decides how the rest reads, so it is checked first.
  const int version = top.integer("version");
  if (version != kDatabaseVersion)
    failAtJsonPath("version", "unknown database version " + std::to_string(version) +
                                  " (this build reads version " + std::to_string(kDatabaseVersion) +
                                  ")");
  top.allowOnly({"format", "version", "provenance", "nodes"});
  if (top.has("format") && top.str("format") != "tccl-path-database")
    failAtJsonPath("format", "not a TCCL path database (format is '" + top.str("format") + "')");
  Database db;
  db.version = version;
  JsonObjectReader prov(top.field("provenance"), "provenance",
                        {"tool", "toolVersion", "profiler", "date", "topology"});
  for (auto [key, dst] : {std::pair{"tool", &db.provenance.tool},
                          {"toolVersion", &db.provenance.toolVersion},
                          {"profiler", &db.provenance.profiler},
                          {"date", &db.provenance.date},
                          {"topology", &db.provenance.topology}})
    *dst = prov.str(key, *dst);
  const Json& nodes = top.array("nodes", 4096);
  for (size_t i = 0; i < nodes.size(); ++i)
    db.nodes.push_back(decodeNode(nodes[i], jsonIndexPath("nodes", i)));
  return db;
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
  std::string invalid;
  result.error = readStrictJson(jsonText, [&](const Json& root) {
    Database db = decodeDatabase(root);
    invalid = validateDatabase(db);
    if (invalid.empty()) result.db = std::move(db);
  });
  if (result.error.empty()) result.error = invalid;
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
