// tccl-db: validate, show, explain, draw, import and merge path databases (docs/tccl-db.md).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "db/db_json.h"
#include "db/db_report.h"
#include "db/tccl_xml_import.h"
#include "topo/plugin_nics.h"
#include "transport/net_plugin/net_plugin_loader.h"
#include "transport/net_plugin/net_plugin_nics.h"

extern char** environ;

namespace {

using namespace tccl::db;

bool isXml(const std::string& path) {
  return std::filesystem::path(path).extension() == ".xml";
}

LoadResult loadAny(const std::string& path, const std::string& importName = kImportedNodeName) {
  return isXml(path) ? importTcclXmlFile(path, importName) : loadDatabaseFile(path);
}

bool writeText(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return bool(std::cout);
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "tccl-db: cannot write " << path << "\n";
    return false;
  }
  return true;
}

std::vector<int> parseGpuList(const std::string& text) {
  std::vector<int> gpus;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) gpus.push_back(std::stoi(item));
  return gpus;
}

// Runs `dot -Tsvg -o svg dotFile`; returns false (with a message) when dot is missing or fails.
bool runDot(const std::string& dotFile, const std::string& svg) {
  std::vector<std::string> args = {"dot", "-Tsvg", "-o", svg, dotFile};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ) != 0) {
    std::cerr << "tccl-db: Graphviz 'dot' is not installed; wrote " << dotFile
              << " only (render it with: dot -Tsvg -o " << svg << " " << dotFile << ")\n";
    return false;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "tccl-db: dot failed on " << dotFile << "\n";
    return false;
  }
  return true;
}

// The net plugin that the runtime would load here (NCCL_NET_PLUGIN, NCCL_NET), its devices
// mapped onto this node's NICs (TCCL_SIM_TOPOLOGY's, else the live machine's), printed; and
// for explain, what carries a NIC hop. No plugin: *carrier stays empty. False: NCCL_NET asks
// for a network nothing provides.
bool describeNetwork(std::function<std::string(int nic)>* carrier) {
  tccl::NetworkChoice network;
  if (tccl::chooseNetwork(tccl::readNetPluginEnv(), &network) != ncclSuccess) {
    std::cerr << "tccl-db: " << tccl::lastThreadError() << "\n";
    return false;
  }
  if (!network.plugin) return true;
  const char* sim = std::getenv("TCCL_SIM_TOPOLOGY");
  const tccl::topo::LoadedTopology node =
      sim && *sim ? tccl::topo::loadTopologyFile(sim) : tccl::topo::discoverLiveTopology();
  std::shared_ptr<tccl::NetPlugin> net = network.plugin;
  auto map = std::make_shared<tccl::topo::PluginNicMap>();
  if (node.topology) {
    const tccl::topo::PluginNicMerge merged = tccl::mergePluginNics(*net, *node.topology);
    std::cout << tccl::pluginNicReport(*net, merged);
    *map = merged.map;
  } else {
    map->whyNone = "the node's topology is unknown (" + node.error + ")";
    std::cout << "network: NET/" << net->name() << " from " << net->library() << ", "
              << net->deviceCount() << " device(s), not mapped to NICs: " << map->whyNone << "\n";
  }
  *carrier = [net, map](int nic) {
    std::string why;
    const int dev = tccl::topo::pluginDeviceForNic(map.get(), nic, net->deviceCount(), &why);
    if (dev < 0) return "no device of NET/" + net->name() + ": " + why;
    std::string text =
        "NET/" + net->name() + " dev " + std::to_string(dev) + " '" + net->device(dev).name + "'";
    if (!why.empty()) text += " (the NIC index modulo the devices: " + why + ")";
    return text;
  };
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tccl-db: inspect and maintain TCCL path databases (JSON; TCCL .xml is imported)"};
  app.require_subcommand(1);

  std::vector<std::string> validateFiles;
  auto* validate =
      app.add_subcommand("validate", "check database files; exit 1 on the first bad one");
  validate->add_option("files", validateFiles, "database files (.json, or TCCL .xml)")->required();

  std::string showFile, showNode;
  auto* show = app.add_subcommand("show", "print the rings and chains with hop kinds and GB/s");
  show->add_option("file", showFile, "database file")->required();
  show->add_option("--node", showNode, "only this node type");

  std::string explainFile;
  int explainNodes = 1, explainGpus = 0;
  std::vector<std::string> explainTypes;
  auto* explain = app.add_subcommand("explain", "which plan a job shape would get, and why");
  explain->add_option("file", explainFile, "database file")->required();
  explain->add_option("--nodes", explainNodes, "number of nodes")->check(CLI::Range(1, 4096));
  explain->add_option("--gpus", explainGpus, "GPUs per node (GPUs 0..n-1 of each node)")
      ->required()
      ->check(CLI::Range(1, 64));
  explain
      ->add_option("--node", explainTypes,
                   "node type of each node, cycled (default: the first node type)")
      ->delimiter(',');

  std::string drawFile, drawNode, drawGpus, drawOut;
  auto* draw = app.add_subcommand("draw", "Graphviz picture of a node with its rings");
  draw->add_option("file", drawFile, "database file")->required();
  draw->add_option("--node", drawNode, "node type (default: the first)");
  draw->add_option("--gpus", drawGpus, "GPU subset whose rings to draw, e.g. 0,1,2,3");
  draw->add_option("-o,--output", drawOut,
                   "output .dot or .svg (.svg runs Graphviz dot); default: DOT on stdout");

  std::string importIn, importOut = "-", importName = kImportedNodeName;
  auto* import = app.add_subcommand("import", "convert the original TCCL's merged XML database");
  import->add_option("xml", importIn, "TCCL XML file")->required();
  import->add_option("-o,--output", importOut, "output JSON (default: stdout)");
  import->add_option("--name", importName, "node type name")->capture_default_str();

  std::vector<std::string> mergeIn;
  std::string mergeOut = "-";
  auto* merge = app.add_subcommand("merge", "combine node types of several databases into one");
  merge->add_option("files", mergeIn, "database files (.json or TCCL .xml)")->required();
  merge->add_option("-o,--output", mergeOut, "output JSON (default: stdout)");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*validate) {
      for (const std::string& f : validateFiles) {
        const LoadResult r = loadAny(f);
        if (!r.db) {
          std::cerr << r.error << "\n";
          return 1;
        }
        size_t intra = 0, inter = 0;
        for (const NodeType& n : r.db->nodes) intra += n.intra.size(), inter += n.inter.size();
        std::cout << f << ": ok, " << r.db->nodes.size() << " node type(s), " << intra
                  << " intra entries, " << inter << " inter entries\n";
      }
      return 0;
    }
    if (*show) {
      const LoadResult r = loadAny(showFile);
      if (!r.db) return std::cerr << r.error << "\n", 1;
      if (!showNode.empty() && !findNodeType(*r.db, showNode))
        return std::cerr << "tccl-db: no node type '" << showNode << "'\n", 1;
      std::cout << showDatabase(*r.db, showNode);
      return 0;
    }
    if (*explain) {
      const LoadResult r = loadAny(explainFile);
      if (!r.db) return std::cerr << r.error << "\n", 1;
      std::function<std::string(int nic)> carrier;
      if (!describeNetwork(&carrier)) return 1;
      bool ok = false;
      std::cout << explainJob(*r.db, explainNodes, explainGpus, explainTypes, &ok, carrier);
      return ok ? 0 : 2;
    }
    if (*draw) {
      const LoadResult r = loadAny(drawFile);
      if (!r.db) return std::cerr << r.error << "\n", 1;
      const NodeType* node = drawNode.empty() ? &r.db->nodes[0] : findNodeType(*r.db, drawNode);
      if (!node) return std::cerr << "tccl-db: no node type '" << drawNode << "'\n", 1;
      const std::string dot =
          drawNodeDot(*node, drawGpus.empty() ? std::vector<int>{} : parseGpuList(drawGpus));
      if (std::filesystem::path(drawOut).extension() == ".svg") {
        const std::string dotFile =
            std::filesystem::path(drawOut).replace_extension(".dot").string();
        if (!writeText(dotFile, dot)) return 1;
        return runDot(dotFile, drawOut) ? 0 : 1;
      }
      return writeText(drawOut, dot) ? 0 : 1;
    }
    if (*import) {
      const LoadResult r = importTcclXmlFile(importIn, importName);
      if (!r.db) return std::cerr << r.error << "\n", 1;
      return writeText(importOut, toJsonText(*r.db)) ? 0 : 1;
    }
    if (*merge) {
      std::vector<Database> dbs;
      for (const std::string& f : mergeIn) {
        LoadResult r = loadAny(f);
        if (!r.db) return std::cerr << r.error << "\n", 1;
        dbs.push_back(std::move(*r.db));
      }
      const LoadResult m = mergeDatabases(dbs, mergeIn);
      if (!m.db) return std::cerr << "tccl-db merge: " << m.error << "\n", 1;
      return writeText(mergeOut, toJsonText(*m.db)) ? 0 : 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "tccl-db: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
