// Reading and validating topology files (docs/topology-format.md).
#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "base/text_file.h"
#include "topo/topology.h"

namespace tccl::topo {
namespace {

using nlohmann::json;

struct TopologyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw TopologyError(path + ": " + problem);
}

std::string typeName(const json& j) {
  return j.type_name();
}

// Checks that an object has only the keys it may have, then hands out typed fields by JSON path.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string path, std::set<std::string> allowed)
      : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_, "expected an object, found " + typeName(j_));
    for (auto& [key, value] : j_.items())
      if (!allowed.count(key)) fail(at(key), "unknown field");
  }

  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) const { return j_.contains(key); }

  const json& field(const std::string& key) const {
    if (!j_.contains(key))
      fail(path_.empty() ? "(top level)" : path_, "missing field '" + key + "'");
    return j_.at(key);
  }
  std::string str(const std::string& key) const {
    const json& v = field(key);
    if (!v.is_string()) fail(at(key), "expected a string, found " + typeName(v));
    return v.get<std::string>();
  }
  std::string str(const std::string& key, const std::string& fallback) const {
    return has(key) ? str(key) : fallback;
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_boolean()) fail(at(key), "expected true or false, found " + typeName(v));
    return v.get<bool>();
  }
  // Checked: get<int>() would wrap 4294967299 around to 3.
  int integer(const std::string& key) const {
    const json& v = field(key);
    if (!v.is_number_integer()) fail(at(key), "expected an integer, found " + typeName(v));
    const bool fits = v.is_number_unsigned()
                          ? v.get<uint64_t>() <= static_cast<uint64_t>(INT_MAX)
                          : v.get<int64_t>() >= INT_MIN && v.get<int64_t>() <= INT_MAX;
    if (!fits) fail(at(key), "integer " + v.dump() + " is out of range");
    return static_cast<int>(v.get<int64_t>());
  }
  // A capacity in GB/s: must be a positive number.
  double capacity(const std::string& key) const {
    const json& v = field(key);
    if (!v.is_number()) fail(at(key), "expected a number (GB/s), found " + typeName(v));
    double x = v.get<double>();
    if (!(x > 0)) fail(at(key), "capacity must be positive, got " + v.dump());
    return x;
  }
  // A bandwidth multiplier in (0, 1].
  double fraction(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number()) fail(at(key), "expected a number in (0, 1], found " + typeName(v));
    double x = v.get<double>();
    if (!(x > 0 && x <= 1)) fail(at(key), "must be in (0, 1], got " + v.dump());
    return x;
  }
  const json& array(const std::string& key, bool required) const {
    static const json kEmpty = json::array();
    if (!required && !has(key)) return kEmpty;
    const json& v = field(key);
    if (!v.is_array()) fail(at(key), "expected an array, found " + typeName(v));
    return v;
  }

 private:
  const json& j_;
  std::string path_;
};

std::string indexed(const std::string& key, size_t i) {
  return key + "[" + std::to_string(i) + "]";
}

void checkNuma(const Topology& t, int numa, const std::string& path) {
  if (numa < 0 || numa >= static_cast<int>(t.numaNodes.size()))
    fail(path, "NUMA node " + std::to_string(numa) + " does not exist (the node has " +
                   std::to_string(t.numaNodes.size()) + ")");
}

int pcieIndex(const std::map<std::string, int>& ids, const std::string& id,
              const std::string& path) {
  auto it = ids.find(id);
  if (it == ids.end()) fail(path, "no PCIe node with id '" + id + "'");
  return it->second;
}

CongestionRule readRule(const json& j, const std::string& path, int numaCount) {
  if (!j.is_object()) fail(path, "expected an object, found " + typeName(j));
  if (!j.contains("rule")) fail(path, "missing field 'rule'");
  if (!j.at("rule").is_string()) fail(path + ".rule", "expected a string");
  std::string name = j.at("rule").get<std::string>();
  std::optional<RuleKind> kind = parseRuleKind(name);
  if (!kind)
    fail(path + ".rule",
         "unknown congestion rule '" + name + "' (known: " + std::string(allRuleNames()) + ")");
  CongestionRule rule;
  rule.kind = *kind;
  auto scopeOf = [&](const ObjectReader& r) {
    std::string s = r.str("scope", "numa");
    if (s == "numa") return RuleScope::kNuma;
    if (s == "socket") return RuleScope::kSocket;
    fail(r.at("scope"), "expected \"numa\" or \"socket\", got \"" + s + "\"");
  };
  switch (rule.kind) {
    case RuleKind::kHostReadWithRemoteP2pWrite: {
      ObjectReader r(j, path, {"rule", "factor", "note"});
      rule.factor = r.fraction("factor", 1);
      r.field("factor");
      break;
    }
    case RuleKind::kP2pAcrossNuma: {
      ObjectReader r(j, path, {"rule", "factor", "scope", "note"});
      r.field("factor");
      rule.factor = r.fraction("factor", 1);
      rule.scope = scopeOf(r);
      break;
    }
    case RuleKind::kBounceBuffersOnOneNuma: {
      ObjectReader r(j, path, {"rule", "factor", "min_transfers", "note"});
      r.field("factor");
      rule.factor = r.fraction("factor", 1);
      rule.minTransfers = r.integer("min_transfers");
      if (rule.minTransfers < 2) fail(r.at("min_transfers"), "must be at least 2");
      (void)numaCount;
      break;
    }
    case RuleKind::kCopyEngineIntoHost: {
      ObjectReader r(j, path, {"rule", "factor", "remote_only", "note"});
      r.field("factor");
      rule.factor = r.fraction("factor", 1);
      rule.remoteOnly = r.boolean("remote_only", false);
      break;
    }
    case RuleKind::kRemoteHostAccess: {
      ObjectReader r(j, path, {"rule", "read_factor", "write_factor", "scope", "note"});
      r.field("read_factor");
      r.field("write_factor");
      rule.readFactor = r.fraction("read_factor", 1);
      rule.writeFactor = r.fraction("write_factor", 1);
      rule.scope = scopeOf(r);
      break;
    }
  }
  return rule;
}

std::vector<std::string> readStrings(const json& j, const std::string& path) {
  std::vector<std::string> out;
  if (!j.is_array()) fail(path, "expected an array of strings");
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) fail(path + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

// Provenance lists: free-text notes (strings) and labels of values ({"values": [...],
// "source": "..."} when measured, {"values": [...], "why": "..."} when illustrative).
void readProvenance(const json& j, Topology& t) {
  ObjectReader top(j, "provenance", {"measured", "illustrative"});
  std::vector<std::string> names;
  for (const TopologyValue& v : topologyValues(t)) names.push_back(v.name);
  for (const bool measured : {true, false}) {
    const char* key = measured ? "measured" : "illustrative";
    const json& list = top.array(key, false);
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = top.at(indexed(key, i));
      if (list[i].is_string()) {
        (measured ? t.measured : t.illustrative).push_back(list[i].get<std::string>());
        continue;
      }
      const char* textKey = measured ? "source" : "why";
      ObjectReader r(list[i], path, {"values", textKey});
      ValueLabel label;
      label.measured = measured;
      label.values = readStrings(r.array("values", true), r.at("values"));
      label.text = r.str(textKey);
      if (label.values.empty()) fail(r.at("values"), "names no value");
      for (size_t v = 0; v < label.values.size(); ++v) {
        const std::string& pattern = label.values[v];
        if (std::none_of(names.begin(), names.end(),
                         [&](const std::string& n) { return labelCovers(pattern, n); }))
          fail(indexed(r.at("values"), v), "'" + pattern + "' names no value of this topology");
      }
      t.labels.push_back(std::move(label));
    }
  }
}

void readPcie(const ObjectReader& top, Topology& t, std::map<std::string, int>& ids) {
  const json& list = top.array("pcie", true);
  std::vector<std::string> parentIds(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = indexed("pcie", i);
    ObjectReader r(list[i], path, {"id", "type", "numa", "parent", "up_gbps", "down_gbps", "note"});
    PcieNode node;
    node.id = r.str("id");
    if (!ids.emplace(node.id, static_cast<int>(i)).second)
      fail(r.at("id"), "duplicate PCIe node id '" + node.id + "'");
    std::string type = r.str("type");
    if (type == "root_port") {
      node.kind = PcieKind::kRootPort;
      if (r.has("parent"))
        fail(r.at("parent"), "a root_port has no parent (it sits on a NUMA node)");
      node.numa = r.integer("numa");
      checkNuma(t, node.numa, r.at("numa"));
    } else if (type == "switch") {
      node.kind = PcieKind::kSwitch;
      if (r.has("numa")) fail(r.at("numa"), "a switch takes its NUMA node from its root port");
      parentIds[i] = r.str("parent");
    } else {
      fail(r.at("type"), "expected \"root_port\" or \"switch\", got \"" + type + "\"");
    }
    node.upGbps = r.capacity("up_gbps");
    node.downGbps = r.capacity("down_gbps");
    t.pcie.push_back(node);
  }
  for (size_t i = 0; i < list.size(); ++i)
    if (t.pcie[i].kind == PcieKind::kSwitch)
      t.pcie[i].parent = pcieIndex(ids, parentIds[i], indexed("pcie", i) + ".parent");
  // Every switch must lead up to a root port without revisiting a node.
  for (size_t i = 0; i < t.pcie.size(); ++i) {
    std::vector<int> seen{static_cast<int>(i)};
    int cur = static_cast<int>(i);
    while (t.pcie[cur].kind == PcieKind::kSwitch) {
      cur = t.pcie[cur].parent;
      bool repeat = std::find(seen.begin(), seen.end(), cur) != seen.end();
      seen.push_back(cur);
      if (repeat) {
        std::string loop;
        for (int s : seen) loop += (loop.empty() ? "" : " -> ") + t.pcie[s].id;
        fail(indexed("pcie", i) + ".parent", "cycle in the PCIe tree: " + loop);
      }
    }
    t.pcie[i].numa = t.pcie[cur].numa;
  }
}

Topology readTopology(const json& doc) {
  ObjectReader top(doc, "",
                   {"name", "description", "cpu_model", "p2p_supported", "sockets", "numa_nodes",
                    "pcie", "gpus", "nics", "efficiency", "congestion_rules", "provenance"});
  Topology t;
  t.name = top.str("name");
  if (t.name.empty()) fail("name", "must not be empty");
  t.description = top.str("description", "");
  t.cpuModel = top.str("cpu_model");
  t.p2pSupported = top.boolean("p2p_supported", true);

  const json& sockets = top.array("sockets", true);
  if (sockets.empty()) fail("sockets", "at least one socket is required");
  for (size_t i = 0; i < sockets.size(); ++i) {
    ObjectReader r(sockets[i], indexed("sockets", i), {"link_gbps", "note"});
    t.sockets.push_back({r.capacity("link_gbps")});
  }

  const json& numas = top.array("numa_nodes", true);
  if (numas.empty()) fail("numa_nodes", "at least one NUMA node is required");
  for (size_t i = 0; i < numas.size(); ++i) {
    ObjectReader r(numas[i], indexed("numa_nodes", i),
                   {"socket", "memory_gbps", "fabric_gbps", "note"});
    NumaNode n;
    n.socket = r.integer("socket");
    if (n.socket < 0 || n.socket >= static_cast<int>(t.sockets.size()))
      fail(r.at("socket"), "socket " + std::to_string(n.socket) + " does not exist (the node has " +
                               std::to_string(t.sockets.size()) + ")");
    n.memoryGbps = r.capacity("memory_gbps");
    n.fabricGbps = r.capacity("fabric_gbps");
    t.numaNodes.push_back(n);
  }

  std::map<std::string, int> pcieIds;
  readPcie(top, t, pcieIds);
  // A device's "numa" and "parent", which must agree.
  auto readPlacement = [&](const ObjectReader& r, const char* what, int* numa, int* parent) {
    *numa = r.integer("numa");
    checkNuma(t, *numa, r.at("numa"));
    *parent = pcieIndex(pcieIds, r.str("parent"), r.at("parent"));
    if (t.pcie[*parent].numa != *numa)
      fail(r.at("numa"), std::string(what) + " is on NUMA node " + std::to_string(*numa) +
                             " but its PCIe parent '" + t.pcie[*parent].id + "' is on NUMA node " +
                             std::to_string(t.pcie[*parent].numa));
  };

  const json& gpus = top.array("gpus", true);
  for (size_t i = 0; i < gpus.size(); ++i) {
    std::string path = indexed("gpus", i);
    ObjectReader r(gpus[i], path,
                   {"bus_id", "model", "numa", "parent", "up_gbps", "down_gbps", "note"});
    Gpu g;
    g.busId = r.str("bus_id");
    g.model = r.str("model");
    readPlacement(r, "GPU", &g.numa, &g.parent);
    g.upGbps = r.capacity("up_gbps");
    g.downGbps = r.capacity("down_gbps");
    if (i > 0 && !(t.gpus.back().busId < g.busId))
      fail(r.at("bus_id"), "GPUs must be listed in ascending PCI bus id order ('" + g.busId +
                               "' follows '" + t.gpus.back().busId + "')");
    t.gpus.push_back(g);
  }

  const json& nics = top.array("nics", false);
  for (size_t i = 0; i < nics.size(); ++i) {
    ObjectReader r(
        nics[i], indexed("nics", i),
        {"name", "numa", "parent", "up_gbps", "down_gbps", "wire_gbps", "gpu_direct", "note"});
    Nic n;
    n.name = r.str("name");
    readPlacement(r, "NIC", &n.numa, &n.parent);
    n.upGbps = r.capacity("up_gbps");
    n.downGbps = r.capacity("down_gbps");
    n.wireGbps = r.capacity("wire_gbps");
    n.gpuDirect = r.boolean("gpu_direct", false);
    t.nics.push_back(n);
  }

  if (top.has("efficiency")) {
    ObjectReader r(
        doc.at("efficiency"), "efficiency",
        {"p2p_write", "p2p_read", "host_bounce", "net_gpu_direct", "net_staged", "note"});
    t.efficiency.p2pWrite = r.fraction("p2p_write", 1);
    t.efficiency.p2pRead = r.fraction("p2p_read", 1);
    t.efficiency.hostBounce = r.fraction("host_bounce", 1);
    t.efficiency.netGpuDirect = r.fraction("net_gpu_direct", 1);
    t.efficiency.netStaged = r.fraction("net_staged", 1);
  }

  const json& rules = top.array("congestion_rules", false);
  for (size_t i = 0; i < rules.size(); ++i)
    t.congestionRules.push_back(
        readRule(rules[i], indexed("congestion_rules", i), static_cast<int>(t.numaNodes.size())));

  if (top.has("provenance")) readProvenance(doc.at("provenance"), t);
  return t;
}

}  // namespace

LoadedTopology parseTopology(std::string_view jsonText, std::string_view sourceName) {
  LoadedTopology out;
  if (jsonText.size() > kMaxInputFileBytes) {
    out.error = std::string(sourceName) + ": larger than " +
                std::to_string(kMaxInputFileBytes >> 20) + " MiB";
    return out;
  }
  json doc;
  try {
    doc = json::parse(jsonText.begin(), jsonText.end());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    out.error = std::string(sourceName) + ": not valid JSON: " + e.what();
    return out;
  } catch (const std::exception& e) {
    out.error = std::string(sourceName) + ": cannot parse: " + e.what();
    return out;
  }
  try {
    out.topology = readTopology(doc);
  } catch (const TopologyError& e) {
    out.error = std::string(sourceName) + ": " + e.what();
  } catch (const std::exception& e) {  // json::exception included
    out.error = std::string(sourceName) + ": " + e.what();
  }
  return out;
}

LoadedTopology parseTopology(std::string_view jsonText) {
  return parseTopology(jsonText, "topology");
}

LoadedTopology loadTopologyFile(const std::string& path) {
  std::string text, error;
  if (!readTextFile(path, &text, &error)) return {std::nullopt, error};
  std::string name = path.substr(path.find_last_of('/') + 1);
  return parseTopology(text, name);
}

}  // namespace tccl::topo
