#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>
#include <vector>

#include "tiny_topology.h"
#include "topo/topology.h"

namespace tccl::topo {
namespace {

using nlohmann::json;
using pathfinder::testing::tinyTopologyJson;

// Parses the tiny topology after `edit`, expecting a rejection; returns the message.
template <typename Edit>
std::string rejection(Edit edit) {
  json doc = json::parse(tinyTopologyJson());
  edit(doc);
  LoadedTopology loaded = parseTopology(doc.dump(), "bad.json");
  EXPECT_FALSE(loaded.topology.has_value());
  return loaded.error;
}

TEST(TopologyLoader, TinyTopologyLoads) {
  LoadedTopology loaded = parseTopology(tinyTopologyJson(), "tiny.json");
  ASSERT_TRUE(loaded.topology) << loaded.error;
  const Topology& t = *loaded.topology;
  EXPECT_EQ(t.gpus.size(), 3u);
  EXPECT_EQ(t.pcie[1].numa, 0);  // a switch inherits its root port's NUMA node
  EXPECT_EQ(gpuNuma(t, 2), 1);
  EXPECT_TRUE(shareSwitch(t, 0, 1));
  EXPECT_FALSE(shareSwitch(t, 0, 2));
  NodeSignature sig = signatureOf(t);
  EXPECT_EQ(sig.numaCount, 2);
  ASSERT_EQ(sig.gpus.size(), 3u);
  EXPECT_EQ(sig.gpus[2].busId, "0000:81:00.0");
  EXPECT_EQ(sig.nics[0].numa, 1);
}

TEST(TopologyLoader, ShippedTopologiesLoadWithTheirFacts) {
  const std::map<std::string, std::vector<int>> gpuNumas{
      {"amd-v100", {3, 1, 1, 0}}, {"amd-3090", {3, 1, 1, 0}}, {"intel-v100", {0, 0, 2, 2}}};
  const std::map<std::string, int> nicNuma{{"amd-v100", 0}, {"amd-3090", 0}, {"intel-v100", 1}};
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TCCL_TOPOLOGY_DIR)) {
    LoadedTopology loaded = loadTopologyFile(entry.path().string());
    ASSERT_TRUE(loaded.topology) << loaded.error;
    const Topology& t = *loaded.topology;
    EXPECT_EQ(t.name, entry.path().stem().string());
    // Every number is labelled measured (with a section of docs/hardware-facts.md) or
    // illustrative, and some are measured.
    Topology copy = t;
    size_t measured = 0;
    for (const TopologyValue& v : topologyValues(copy)) {
      const ValueLabel* label = labelOf(t, v.name);
      ASSERT_NE(label, nullptr) << t.name << ": " << v.name << " has no label";
      if (label->measured) {
        ++measured;
        EXPECT_NE(label->text.find("docs/hardware-facts.md, '"), std::string::npos) << v.name;
      }
    }
    EXPECT_GT(measured, 0u) << t.name;
    // The repository stands alone: no pointer to documents outside it.
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find("DESIGN.md"), std::string::npos) << t.name;
    EXPECT_EQ(text.find("HARDWARE-FACTS"), std::string::npos) << t.name;
    if (auto it = gpuNumas.find(t.name); it != gpuNumas.end()) {
      EXPECT_EQ(t.numaNodes.size(), 4u);
      for (size_t g = 0; g < it->second.size(); ++g) EXPECT_EQ(gpuNuma(t, g), it->second[g]);
      EXPECT_EQ(t.nics.at(0).numa, nicNuma.at(t.name));
    }
    ++files;
  }
  EXPECT_GE(files, 5);
}

TEST(TopologyLoader, ReadsValueLabelsAndRejectsOnesThatNameNothing) {
  json d = json::parse(tinyTopologyJson());
  d["provenance"] = json::parse(R"({
    "measured": ["a note", {"values": ["gpus[*].up_gbps"], "source": "s"}],
    "illustrative": [{"values": ["gpus[1].up_gbps"], "why": "w"}]})");
  LoadedTopology t = parseTopology(d.dump(), "t.json");
  ASSERT_TRUE(t.topology) << t.error;
  EXPECT_EQ(t.topology->measured, std::vector<std::string>{"a note"});
  ASSERT_EQ(t.topology->labels.size(), 2u);
  EXPECT_TRUE(labelOf(*t.topology, "gpus[0].up_gbps")->measured);
  EXPECT_FALSE(labelOf(*t.topology, "gpus[1].up_gbps")->measured);  // naming it exactly wins
  EXPECT_EQ(labelOf(*t.topology, "gpus[0].down_gbps"), nullptr);
  EXPECT_TRUE(labelCovers("congestion_rules[*].factor", "congestion_rules[12].factor"));
  EXPECT_FALSE(labelCovers("gpus[*].up_gbps", "gpus[0].down_gbps"));
  std::string e = rejection([](json& d) {
    d["provenance"] =
        json::parse(R"({"measured": [{"values": ["gpus[9].up_gbps"], "source": "s"}]})");
  });
  EXPECT_EQ(e,
            "bad.json: provenance.measured[0].values[0]: 'gpus[9].up_gbps' names no value of "
            "this topology");
  e = rejection([](json& d) {
    d["provenance"] =
        json::parse(R"({"illustrative": [{"values": ["efficiency.host_bounce"], "source": "s"}]})");
  });
  EXPECT_EQ(e, "bad.json: provenance.illustrative[0].source: unknown key 'source'");
}

TEST(TopologyLoader, RejectsMissingField) {
  std::string e = rejection([](json& d) { d["gpus"][1].erase("up_gbps"); });
  EXPECT_EQ(e, "bad.json: gpus[1]: missing required key 'up_gbps'");
  e = rejection([](json& d) { d.erase("numa_nodes"); });
  EXPECT_EQ(e, "bad.json: (document): missing required key 'numa_nodes'");
}

TEST(TopologyLoader, RejectsCycleInPcieTree) {
  std::string e = rejection([](json& d) {
    d["pcie"].push_back(
        {{"id", "swA"}, {"type", "switch"}, {"parent", "swB"}, {"up_gbps", 1}, {"down_gbps", 1}});
    d["pcie"].push_back(
        {{"id", "swB"}, {"type", "switch"}, {"parent", "swA"}, {"up_gbps", 1}, {"down_gbps", 1}});
  });
  EXPECT_EQ(e, "bad.json: pcie[3].parent: cycle in the PCIe tree: swA -> swB -> swA");
  e = rejection([](json& d) { d["pcie"][1]["parent"] = "sw0"; });
  EXPECT_EQ(e, "bad.json: pcie[1].parent: cycle in the PCIe tree: sw0 -> sw0");
}

TEST(TopologyLoader, RejectsGpuOnMissingNumaNode) {
  std::string e = rejection([](json& d) { d["gpus"][2]["numa"] = 7; });
  EXPECT_EQ(e, "bad.json: gpus[2].numa: NUMA node 7 does not exist (the node has 2)");
  e = rejection([](json& d) { d["gpus"][2]["numa"] = 0; });  // exists, but not where its port is
  EXPECT_NE(
      e.find("gpus[2].numa: GPU is on NUMA node 0 but its PCIe parent 'rp1' is on NUMA node 1"),
      std::string::npos)
      << e;
}

TEST(TopologyLoader, RejectsZeroOrNegativeCapacity) {
  std::string e = rejection([](json& d) { d["pcie"][1]["up_gbps"] = 0; });
  EXPECT_EQ(e, "bad.json: pcie[1].up_gbps: capacity must be positive, got 0");
  e = rejection([](json& d) { d["numa_nodes"][0]["memory_gbps"] = -3.5; });
  EXPECT_EQ(e, "bad.json: numa_nodes[0].memory_gbps: capacity must be positive, got -3.5");
}

TEST(TopologyLoader, RejectsUnknownCongestionRule) {
  std::string e = rejection([](json& d) {
    d["congestion_rules"] = json::array(
        {{{"rule", "p2p_across_numa"}, {"factor", 0.5}}, {{"rule", "amd_magic"}, {"factor", 0.5}}});
  });
  EXPECT_NE(
      e.find("bad.json: congestion_rules[1].rule: unknown congestion rule 'amd_magic' (known: "),
      std::string::npos)
      << e;
  e = rejection([](json& d) {
    d["congestion_rules"] = json::array({{{"rule", "p2p_across_numa"}, {"factr", 0.5}}});
  });
  EXPECT_EQ(e, "bad.json: congestion_rules[0].factr: unknown key 'factr'");
  e = rejection([](json& d) {
    d["congestion_rules"] = json::array({{{"rule", "p2p_across_numa"}, {"factor", 1.5}}});
  });
  EXPECT_EQ(e, "bad.json: congestion_rules[0].factor: must be in (0, 1], got 1.5");
}

// Numbers nlohmann cannot hold used to escape as exceptions (and abort a program that loaded
// the file through the C API); integers that do not fit an int used to wrap around.
TEST(TopologyLoader, RejectsNumbersOutOfRange) {
  json doc = json::parse(tinyTopologyJson());
  doc["numa_nodes"][0]["memory_gbps"] = "HUGE";
  std::string text = doc.dump();
  text.replace(text.find("\"HUGE\""), 6, "1e999");
  LoadedTopology loaded;
  EXPECT_NO_THROW(loaded = parseTopology(text, "bad.json"));
  EXPECT_FALSE(loaded.topology);
  EXPECT_NE(loaded.error.find("bad.json: malformed JSON"), std::string::npos) << loaded.error;
  EXPECT_NE(loaded.error.find("1e999"), std::string::npos) << loaded.error;
  std::string e = rejection([](json& d) { d["gpus"][2]["numa"] = 4294967297ull; });
  EXPECT_EQ(e, "bad.json: gpus[2].numa: integer 4294967297 out of range");
  e = rejection([](json& d) { d["numa_nodes"][1]["socket"] = -4294967296ll; });
  EXPECT_EQ(e, "bad.json: numa_nodes[1].socket: integer -4294967296 out of range");
}

// nlohmann keeps one of two values given to one key; the reader refuses to guess which.
TEST(TopologyLoader, RejectsDuplicateKeys) {
  std::string text = tinyTopologyJson();
  text.replace(text.find(R"("model": "G",)"), 13, R"("model": "G", "model": "H",)");
  LoadedTopology loaded = parseTopology(text, "bad.json");
  EXPECT_FALSE(loaded.topology);
  EXPECT_EQ(loaded.error, "bad.json: gpus[0].model: duplicate key 'model'");
}

TEST(TopologyLoader, FilesLargerThan64MiBAreRefused) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("tccl-huge-topology-" + std::to_string(getpid()) + ".json");
  {
    std::ofstream out(path);
    out << "{\"name\": \"";
  }
  std::filesystem::resize_file(path, (64u << 20) + 16);  // a 64 MiB string, sparse on disk
  LoadedTopology loaded = loadTopologyFile(path.string());
  std::filesystem::remove(path);
  EXPECT_FALSE(loaded.topology);
  EXPECT_NE(loaded.error.find("larger than 64 MiB"), std::string::npos) << loaded.error;
}

TEST(TopologyLoader, FileErrorsNameTheFile) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("tccl-bad-topology-" + std::to_string(getpid()) + ".json");
  {
    std::ofstream out(path);
    out << "{ \"name\": ";
  }
  LoadedTopology loaded = loadTopologyFile(path.string());
  std::filesystem::remove(path);
  EXPECT_FALSE(loaded.topology);
  EXPECT_EQ(loaded.error.rfind(path.filename().string() + ": malformed JSON", 0), 0u)
      << loaded.error;
  EXPECT_NE(loadTopologyFile("/nonexistent/x.json").error.find("cannot open"), std::string::npos);
}

// Element i of a and b, seen through `key`, agree.
template <typename T, typename Key>
void expectSameElements(const std::vector<T>& a, const std::vector<T>& b, Key key) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(key(a[i]) == key(b[i])) << "element " << i;
}

// Everything the reader fills in (the writer drops only the "note" fields).
void expectSameTopology(const Topology& a, const Topology& b) {
  EXPECT_EQ(std::tie(a.name, a.description, a.cpuModel, a.measured, a.illustrative),
            std::tie(b.name, b.description, b.cpuModel, b.measured, b.illustrative));
  expectSameElements(a.pcie, b.pcie, [](const PcieNode& p) {
    return std::make_tuple(p.id, p.kind, p.parent, p.numa);
  });
  expectSameElements(a.gpus, b.gpus, [](const Gpu& g) {
    return std::make_tuple(g.busId, g.model, g.numa, g.parent);
  });
  expectSameElements(a.nics, b.nics,
                     [](const Nic& n) { return std::make_tuple(n.name, n.numa, n.parent); });
  expectSameElements(a.numaNodes, b.numaNodes, [](const NumaNode& n) { return n.socket; });
  expectSameElements(a.congestionRules, b.congestionRules, [](const CongestionRule& r) {
    return std::make_tuple(r.kind, r.scope, r.remoteOnly);
  });
  expectSameElements(a.labels, b.labels, [](const ValueLabel& l) {
    return std::make_tuple(l.measured, l.values, l.text);
  });
  // Every number and yes/no fact the model uses: capacities, efficiencies, rule parameters.
  Topology ca = a, cb = b;
  const std::vector<TopologyValue> va = topologyValues(ca), vb = topologyValues(cb);
  auto valueOf = [](const TopologyValue& v) {
    return v.number ? *v.number : v.count ? *v.count : *v.flag;
  };
  ASSERT_EQ(va.size(), vb.size());
  for (size_t i = 0; i < va.size(); ++i) {
    ASSERT_EQ(va[i].name, vb[i].name);
    EXPECT_EQ(valueOf(va[i]), valueOf(vb[i])) << va[i].name;
  }
}

// read -> write -> read gives the same topology, and writing that again the same text: over
// every shipped file (all congestion rule kinds, both scopes, switches) and the tiny one.
TEST(TopologyJson, WriterRoundTripsThroughTheReader) {
  std::vector<std::pair<std::string, LoadedTopology>> read{
      {"tiny", parseTopology(tinyTopologyJson(), "tiny.json")}};
  for (const auto& entry : std::filesystem::directory_iterator(TCCL_TOPOLOGY_DIR))
    read.push_back({entry.path().filename().string(), loadTopologyFile(entry.path().string())});
  EXPECT_GE(read.size(), 6u);
  for (const auto& [name, first] : read) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(first.topology) << first.error;
    const std::string text = topologyToJson(*first.topology);
    LoadedTopology second = parseTopology(text, "written.json");
    ASSERT_TRUE(second.topology) << second.error << "\n" << text;
    expectSameTopology(*first.topology, *second.topology);
    EXPECT_EQ(topologyToJson(*second.topology), text);
  }
}

// A topology built in memory (as live discovery and calibration make them) comes back too,
// with values the shipped files do not use: a description, no NICs, a non-default efficiency.
TEST(TopologyJson, WriterKeepsWhatTheFilesLeaveAtDefaults) {
  LoadedTopology tiny = parseTopology(tinyTopologyJson(), "tiny.json");
  ASSERT_TRUE(tiny.topology) << tiny.error;
  Topology t = *tiny.topology;
  t.description = "edited \"in memory\"";
  t.p2pSupported = !t.p2pSupported;
  t.nics.clear();
  t.efficiency.netStaged = 0.25;
  t.labels.clear();
  t.measured = {"note one", "note two"};
  LoadedTopology back = parseTopology(topologyToJson(t), "written.json");
  ASSERT_TRUE(back.topology) << back.error;
  expectSameTopology(t, *back.topology);
  EXPECT_EQ(back.topology->p2pSupported, t.p2pSupported);
  EXPECT_EQ(back.topology->efficiency.netStaged, 0.25);
}

TEST(TopologyLoader, LiveDiscoveryDescribesThisMachine) {
  LoadedTopology live = discoverLiveTopology();
  ASSERT_TRUE(live.topology) << live.error;
  EXPECT_GE(live.topology->numaNodes.size(), 1u);
  EXPECT_EQ(signatureOf(*live.topology).numaCount,
            static_cast<int>(live.topology->numaNodes.size()));
}

}  // namespace
}  // namespace tccl::topo
