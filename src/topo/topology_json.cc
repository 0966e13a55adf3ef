// Reading and validating topology files (docs/topology-format.md), and writing them.
#include <algorithm>
#include <map>

#include "base/strict_json.h"
#include "base/text_file.h"
#include "topo/plugin_nics.h"
#include "topo/topology.h"

namespace tccl::topo {
namespace {

using json = StrictJson;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  failAtJsonPath(path, problem);
}

// A capacity in GB/s: must be a positive number.
double capacity(const JsonObjectReader& r, const std::string& key) {
  const double x = r.number(key, "a number (GB/s)");
  if (!(x > 0)) fail(r.at(key), "capacity must be positive, got " + r.field(key).dump());
  return x;
}

// A bandwidth multiplier in (0, 1].
double fraction(const JsonObjectReader& r, const std::string& key) {
  const double x = r.number(key, "a number in (0, 1]");
  if (!(x > 0 && x <= 1)) fail(r.at(key), "must be in (0, 1], got " + r.field(key).dump());
  return x;
}
double fraction(const JsonObjectReader& r, const std::string& key, double fallback) {
  return r.has(key) ? fraction(r, key) : fallback;
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

CongestionRule readRule(const json& j, const std::string& path) {
  JsonObjectReader r(j, path);
  const std::string name = r.str("rule");
  std::optional<RuleKind> kind = parseRuleKind(name);
  if (!kind)
    fail(r.at("rule"),
         "unknown congestion rule '" + name + "' (known: " + std::string(allRuleNames()) + ")");
  CongestionRule rule;
  rule.kind = *kind;
  auto scopeOf = [&] {
    std::string s = r.str("scope", "numa");
    if (s == "numa") return RuleScope::kNuma;
    if (s == "socket") return RuleScope::kSocket;
    fail(r.at("scope"), "expected \"numa\" or \"socket\", got \"" + s + "\"");
  };
  switch (rule.kind) {
    case RuleKind::kHostReadWithRemoteP2pWrite:
      r.allowOnly({"rule", "factor", "note"});
      rule.factor = fraction(r, "factor");
      break;
    case RuleKind::kP2pAcrossNuma:
      r.allowOnly({"rule", "factor", "scope", "note"});
      rule.factor = fraction(r, "factor");
      rule.scope = scopeOf();
      break;
    case RuleKind::kBounceBuffersOnOneNuma:
      r.allowOnly({"rule", "factor", "min_transfers", "note"});
      rule.factor = fraction(r, "factor");
      rule.minTransfers = r.integer("min_transfers");
      if (rule.minTransfers < 2) fail(r.at("min_transfers"), "must be at least 2");
      break;
    case RuleKind::kCopyEngineIntoHost:
      r.allowOnly({"rule", "factor", "remote_only", "note"});
      rule.factor = fraction(r, "factor");
      rule.remoteOnly = r.boolean("remote_only", false);
      break;
    case RuleKind::kRemoteHostAccess:
      r.allowOnly({"rule", "read_factor", "write_factor", "scope", "note"});
      rule.readFactor = fraction(r, "read_factor");
      rule.writeFactor = fraction(r, "write_factor");
      rule.scope = scopeOf();
      break;
  }
  return rule;
}

// Provenance lists: free-text notes (strings) and labels of values ({"values": [...],
// "source": "..."} when measured, {"values": [...], "why": "..."} when illustrative).
void readProvenance(const json& j, Topology& t) {
  JsonObjectReader top(j, "provenance", {"measured", "illustrative"});
  std::vector<std::string> names;
  for (const TopologyValue& v : topologyValues(t)) names.push_back(v.name);
  for (const bool measured : {true, false}) {
    const char* key = measured ? "measured" : "illustrative";
    const json& list = top.optionalArray(key);
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = top.at(jsonIndexPath(key, i));
      if (list[i].is_string()) {
        (measured ? t.measured : t.illustrative).push_back(list[i].get<std::string>());
        continue;
      }
      const char* textKey = measured ? "source" : "why";
      JsonObjectReader r(list[i], path, {"values", textKey});
      ValueLabel label;
      label.measured = measured;
      label.values = jsonStringArray(r.field("values"), r.at("values"));
      label.text = r.str(textKey);
      if (label.values.empty()) fail(r.at("values"), "names no value");
      for (size_t v = 0; v < label.values.size(); ++v) {
        const std::string& pattern = label.values[v];
        if (std::none_of(names.begin(), names.end(),
                         [&](const std::string& n) { return labelCovers(pattern, n); }))
          fail(jsonIndexPath(r.at("values"), v),
               "'" + pattern + "' names no value of this topology");
      }
      t.labels.push_back(std::move(label));
    }
  }
}

void readPcie(const JsonObjectReader& top, Topology& t, std::map<std::string, int>& ids) {
  const json& list = top.array("pcie");
  std::vector<std::string> parentIds(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = jsonIndexPath("pcie", i);
    JsonObjectReader r(list[i], path,
                       {"id", "type", "numa", "parent", "up_gbps", "down_gbps", "note"});
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
    node.upGbps = capacity(r, "up_gbps");
    node.downGbps = capacity(r, "down_gbps");
    t.pcie.push_back(node);
  }
  for (size_t i = 0; i < list.size(); ++i)
    if (t.pcie[i].kind == PcieKind::kSwitch)
      t.pcie[i].parent = pcieIndex(ids, parentIds[i], jsonIndexPath("pcie", i) + ".parent");
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
        fail(jsonIndexPath("pcie", i) + ".parent", "cycle in the PCIe tree: " + loop);
      }
    }
    t.pcie[i].numa = t.pcie[cur].numa;
  }
}

Topology readTopology(const json& doc) {
  JsonObjectReader top(
      doc, "",
      {"name", "description", "cpu_model", "p2p_supported", "sockets", "numa_nodes", "pcie", "gpus",
       "nics", "efficiency", "congestion_rules", "provenance"});
  Topology t;
  t.name = top.str("name");
  if (t.name.empty()) fail("name", "must not be empty");
  t.description = top.str("description", "");
  t.cpuModel = top.str("cpu_model");
  t.p2pSupported = top.boolean("p2p_supported", true);

  const json& sockets = top.array("sockets");
  if (sockets.empty()) fail("sockets", "at least one socket is required");
  for (size_t i = 0; i < sockets.size(); ++i) {
    JsonObjectReader r(sockets[i], jsonIndexPath("sockets", i), {"link_gbps", "note"});
    t.sockets.push_back({capacity(r, "link_gbps")});
  }

  const json& numas = top.array("numa_nodes");
  if (numas.empty()) fail("numa_nodes", "at least one NUMA node is required");
  for (size_t i = 0; i < numas.size(); ++i) {
    JsonObjectReader r(numas[i], jsonIndexPath("numa_nodes", i),
                       {"socket", "memory_gbps", "fabric_gbps", "note"});
    NumaNode n;
    n.socket = r.integer("socket");
    if (n.socket < 0 || n.socket >= static_cast<int>(t.sockets.size()))
      fail(r.at("socket"), "socket " + std::to_string(n.socket) + " does not exist (the node has " +
                               std::to_string(t.sockets.size()) + ")");
    n.memoryGbps = capacity(r, "memory_gbps");
    n.fabricGbps = capacity(r, "fabric_gbps");
    t.numaNodes.push_back(n);
  }

  std::map<std::string, int> pcieIds;
  readPcie(top, t, pcieIds);
  // A device's "numa" and "parent", which must agree.
  auto readPlacement = [&](const JsonObjectReader& r, const char* what, int* numa, int* parent) {
    *numa = r.integer("numa");
    checkNuma(t, *numa, r.at("numa"));
    *parent = pcieIndex(pcieIds, r.str("parent"), r.at("parent"));
    if (t.pcie[*parent].numa != *numa)
      fail(r.at("numa"), std::string(what) + " is on NUMA node " + std::to_string(*numa) +
                             " but its PCIe parent '" + t.pcie[*parent].id + "' is on NUMA node " +
                             std::to_string(t.pcie[*parent].numa));
  };

  const json& gpus = top.array("gpus");
  for (size_t i = 0; i < gpus.size(); ++i) {
    std::string path = jsonIndexPath("gpus", i);
    JsonObjectReader r(gpus[i], path,
                       {"bus_id", "model", "numa", "parent", "up_gbps", "down_gbps", "note"});
    Gpu g;
    g.busId = r.str("bus_id");
    g.model = r.str("model");
    readPlacement(r, "GPU", &g.numa, &g.parent);
    g.upGbps = capacity(r, "up_gbps");
    g.downGbps = capacity(r, "down_gbps");
    if (i > 0 && !(t.gpus.back().busId < g.busId))
      fail(r.at("bus_id"), "GPUs must be listed in ascending PCI bus id order ('" + g.busId +
                               "' follows '" + t.gpus.back().busId + "')");
    t.gpus.push_back(g);
  }

  const json& nics = top.optionalArray("nics");
  for (size_t i = 0; i < nics.size(); ++i) {
    JsonObjectReader r(nics[i], jsonIndexPath("nics", i),
                       {"name", "bus_id", "numa", "parent", "up_gbps", "down_gbps", "wire_gbps",
                        "gpu_direct", "note"});
    Nic n;
    n.name = r.str("name");
    n.busId = r.str("bus_id", "");
    if (!n.busId.empty()) {
      const std::optional<std::string> id = pciBusIdOfPath(n.busId);
      if (!id || *id != n.busId)
        fail(r.at("bus_id"),
             "expected a lower-case PCI bus id like \"0000:3b:00.0\", got \"" + n.busId + "\"");
    }
    readPlacement(r, "NIC", &n.numa, &n.parent);
    n.upGbps = capacity(r, "up_gbps");
    n.downGbps = capacity(r, "down_gbps");
    n.wireGbps = capacity(r, "wire_gbps");
    n.gpuDirect = r.boolean("gpu_direct", false);
    t.nics.push_back(n);
  }

  if (top.has("efficiency")) {
    JsonObjectReader r(
        top.field("efficiency"), "efficiency",
        {"p2p_write", "p2p_read", "host_bounce", "net_gpu_direct", "net_staged", "note"});
    t.efficiency.p2pWrite = fraction(r, "p2p_write", 1);
    t.efficiency.p2pRead = fraction(r, "p2p_read", 1);
    t.efficiency.hostBounce = fraction(r, "host_bounce", 1);
    t.efficiency.netGpuDirect = fraction(r, "net_gpu_direct", 1);
    t.efficiency.netStaged = fraction(r, "net_staged", 1);
  }

  const json& rules = top.optionalArray("congestion_rules");
  for (size_t i = 0; i < rules.size(); ++i)
    t.congestionRules.push_back(readRule(rules[i], jsonIndexPath("congestion_rules", i)));

  if (top.has("provenance")) readProvenance(top.field("provenance"), t);
  return t;
}

}  // namespace

LoadedTopology parseTopology(std::string_view jsonText, std::string_view sourceName) {
  LoadedTopology out;
  const std::string error =
      readStrictJson(jsonText, [&](const json& doc) { out.topology = readTopology(doc); });
  if (!error.empty()) out.error = std::string(sourceName) + ": " + error;
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

std::string topologyToJson(const Topology& t) {
  json doc;
  doc["name"] = t.name;
  if (!t.description.empty()) doc["description"] = t.description;
  doc["cpu_model"] = t.cpuModel;
  doc["p2p_supported"] = t.p2pSupported;
  doc["sockets"] = json::array();
  for (const Socket& s : t.sockets) doc["sockets"].push_back({{"link_gbps", s.linkGbps}});
  doc["numa_nodes"] = json::array();
  for (const NumaNode& n : t.numaNodes)
    doc["numa_nodes"].push_back(
        {{"socket", n.socket}, {"memory_gbps", n.memoryGbps}, {"fabric_gbps", n.fabricGbps}});
  doc["pcie"] = json::array();
  for (const PcieNode& p : t.pcie) {
    json j;
    j["id"] = p.id;
    if (p.kind == PcieKind::kRootPort) {
      j["type"] = "root_port";
      j["numa"] = p.numa;
    } else {
      j["type"] = "switch";
      j["parent"] = t.pcie[p.parent].id;
    }
    j["up_gbps"] = p.upGbps;
    j["down_gbps"] = p.downGbps;
    doc["pcie"].push_back(j);
  }
  doc["gpus"] = json::array();
  for (const Gpu& g : t.gpus)
    doc["gpus"].push_back({{"bus_id", g.busId},
                           {"model", g.model},
                           {"numa", g.numa},
                           {"parent", t.pcie[g.parent].id},
                           {"up_gbps", g.upGbps},
                           {"down_gbps", g.downGbps}});
  doc["nics"] = json::array();
  for (const Nic& n : t.nics) {
    json j = {
        {"name", n.name},           {"numa", n.numa},          {"parent", t.pcie[n.parent].id},
        {"up_gbps", n.upGbps},      {"down_gbps", n.downGbps}, {"wire_gbps", n.wireGbps},
        {"gpu_direct", n.gpuDirect}};
    if (!n.busId.empty()) j["bus_id"] = n.busId;
    doc["nics"].push_back(j);
  }
  const TransferEfficiency& e = t.efficiency;
  doc["efficiency"] = {{"p2p_write", e.p2pWrite},
                       {"p2p_read", e.p2pRead},
                       {"host_bounce", e.hostBounce},
                       {"net_gpu_direct", e.netGpuDirect},
                       {"net_staged", e.netStaged}};
  doc["congestion_rules"] = json::array();
  for (const CongestionRule& r : t.congestionRules) {
    json j;
    j["rule"] = std::string(ruleKindName(r.kind));
    std::string scope = r.scope == RuleScope::kSocket ? "socket" : "numa";
    switch (r.kind) {
      case RuleKind::kHostReadWithRemoteP2pWrite:
        j["factor"] = r.factor;
        break;
      case RuleKind::kP2pAcrossNuma:
        j["factor"] = r.factor;
        j["scope"] = scope;
        break;
      case RuleKind::kBounceBuffersOnOneNuma:
        j["min_transfers"] = r.minTransfers;
        j["factor"] = r.factor;
        break;
      case RuleKind::kCopyEngineIntoHost:
        j["factor"] = r.factor;
        j["remote_only"] = r.remoteOnly;
        break;
      case RuleKind::kRemoteHostAccess:
        j["read_factor"] = r.readFactor;
        j["write_factor"] = r.writeFactor;
        j["scope"] = scope;
        break;
    }
    doc["congestion_rules"].push_back(j);
  }
  // Free-text notes first, then the labels of the values, in the file's order.
  json measured = t.measured, illustrative = t.illustrative;
  for (const ValueLabel& l : t.labels)
    (l.measured ? measured : illustrative)
        .push_back({{"values", l.values}, {l.measured ? "source" : "why", l.text}});
  doc["provenance"] = {{"measured", measured}, {"illustrative", illustrative}};
  // Names from hardware probes might not be valid UTF-8; never throw while writing.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace tccl::topo
