// Loading NCCL net plugins and choosing the network: ABI version preference, name and path
// resolution, NCCL_NET_PLUGIN=none, NCCL_NET, and broken plugins (a missing symbol, a table
// with a hole, an init that fails), which fall back with one WARN line or, when NCCL_NET
// names the network, fail. Every case runs in a fresh child process.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/error.h"
#include "core/network_choice.h"
#include "net_plugin_test_util.h"
#include "transport/net_plugin/net_plugin_loader.h"

namespace tccl {
namespace {

using test::countLines;
using test::pluginPath;
using test::runInChild;

// "key=value" lines from the child.
std::map<std::string, std::string> parse(const std::string& report) {
  std::map<std::string, std::string> out;
  std::istringstream in(report);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

std::string describeChoice() {
  NetworkChoice choice;
  const ncclResult_t res = chooseNetwork(readNetPluginEnv(), &choice);
  std::string out = "result=" + std::string(resultName(res)) + "\n";
  if (res != ncclSuccess) return out + "error=" + lastThreadError() + "\n";
  out += "network=" + choice.name() + "\n";
  if (choice.plugin) {
    const NetPlugin& p = *choice.plugin;
    out += "version=" + std::to_string(p.abiVersion()) + "\nlibrary=" + p.library() +
           "\ndevices=" + std::to_string(p.deviceCount()) +
           "\nmaxRequests=" + std::to_string(p.maxRequestsPerComm()) +
           "\nmaxMessage=" + std::to_string(p.maxMessageBytes(0)) + "\ndev0=" + p.device(0).name +
           "\n";
  }
  return out;
}

struct Choice {
  std::map<std::string, std::string> fields;
  std::string log;
  std::string report;
};

Choice choose(const test::EnvList& env) {
  test::ChildRun run = runInChild(env, describeChoice);
  EXPECT_EQ(run.exitCode, 0) << run.report;
  return {parse(run.report), run.log, run.report};
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

int warnLines(const std::string& log) {
  return countLines(log, {"NCCL WARN"});
}

TEST(NetPluginLoader, PrefersV10WhenV8AndV10AreExported) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "tcptest"}});
  EXPECT_EQ(c.fields["result"], "ncclSuccess") << c.report;
  EXPECT_EQ(c.fields["network"], "TestTCP");
  EXPECT_EQ(c.fields["version"], "10");
  EXPECT_TRUE(endsWith(c.fields["library"], "/libnccl-net-tcptest.so")) << c.fields["library"];
  EXPECT_EQ(c.fields["dev0"], "lo");  // NCCL_SOCKET_IFNAME=lo, passed through to the plugin
  EXPECT_EQ(c.fields["maxRequests"], "32");
  // What NCCL_DEBUG=INFO shows: the plugin, its ABI version and its devices.
  EXPECT_EQ(countLines(c.log, {"NCCL INFO", "Loaded net plugin TestTCP (v10) from"}), 1) << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL INFO", "initialized TestTCP (ABI v10", "1 device(s)"}), 1)
      << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL INFO", "NET/TestTCP : dev 0 lo: speed"}), 1) << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL INFO", "Using network TestTCP"}), 1) << c.log;
  // The plugin's own lines come through the logger TCCL hands to init, its newline dropped.
  EXPECT_EQ(countLines(c.log, {"NCCL INFO", "NET/TestTCP: 1 device(s), at most 2 requests"}), 1)
      << c.log;
  EXPECT_EQ(c.log.find("\n\n"), std::string::npos) << c.log;
  EXPECT_EQ(warnLines(c.log), 0) << c.log;
}

TEST(NetPluginLoader, TakesV8WhenOnlyV8IsExported) {
  Choice c = choose({{"NCCL_NET_PLUGIN", pluginPath("libnccl-net-tcptest-v8.so")}});
  EXPECT_EQ(c.fields["result"], "ncclSuccess") << c.report;
  EXPECT_EQ(c.fields["version"], "8");
  EXPECT_EQ(c.fields["maxMessage"], std::to_string(size_t{1} << 30));  // int sizes: 1 GiB
  EXPECT_EQ(countLines(c.log, {"Loaded net plugin TestTCP (v8)"}), 1) << c.log;
}

TEST(NetPluginLoader, ReadsEveryAbiFromV6ToV10) {
  const std::pair<const char*, const char*> cases[] = {{"tcptest-v6", "6"},
                                                       {"tcptest-v7", "7"},
                                                       {"tcptest-v8", "8"},
                                                       {"tcptest-v9", "9"},
                                                       {"tcptest", "10"}};
  for (const auto& [name, version] : cases) {
    Choice c = choose({{"NCCL_NET_PLUGIN", name}});
    EXPECT_EQ(c.fields["result"], "ncclSuccess") << name << ": " << c.report;
    EXPECT_EQ(c.fields["version"], version) << name;
    EXPECT_EQ(c.fields["dev0"], "lo") << name;
    // NCCL_NET_MAX_REQUESTS was 8 for v6 plugins, 32 from v7 on.
    EXPECT_EQ(c.fields["maxRequests"], std::string(version) == "6" ? "8" : "32") << name;
  }
}

TEST(NetPluginLoader, MaxP2pBytesComesFromV9Properties) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "tcptest"}, {"TCCL_TESTNET_MAX_P2P_BYTES", "65536"}});
  EXPECT_EQ(c.fields["maxMessage"], "65536") << c.report;
  c = choose({{"NCCL_NET_PLUGIN", "tcptest-v8"}, {"TCCL_TESTNET_MAX_P2P_BYTES", "65536"}});
  EXPECT_EQ(c.fields["maxMessage"], std::to_string(size_t{1} << 30)) << "v8 has no such field";
}

TEST(NetPluginLoader, DefaultIsLibncclNetSo) {
  Choice c = choose({});  // found through the test's run path, like an installed plugin
  EXPECT_EQ(c.fields["result"], "ncclSuccess") << c.report;
  EXPECT_EQ(c.fields["network"], "TestTCP");
  EXPECT_TRUE(endsWith(c.fields["library"], "/libnccl-net.so")) << c.fields["library"];
}

TEST(NetPluginLoader, NoneDisablesPlugins) {
  for (const char* value : {"none", "NONE", ""}) {
    Choice c = choose({{"NCCL_NET_PLUGIN", value}});
    EXPECT_EQ(c.fields["result"], "ncclSuccess") << c.report;
    EXPECT_EQ(c.fields["network"], "Socket") << "NCCL_NET_PLUGIN='" << value << "'";
    EXPECT_EQ(countLines(c.log, {"Loaded net plugin"}), 0) << c.log;
    EXPECT_EQ(countLines(c.log, {"no net plugin is loaded"}), 1) << c.log;
    EXPECT_EQ(countLines(c.log, {"Using network Socket"}), 1) << c.log;
    EXPECT_EQ(warnLines(c.log), 0) << c.log;
  }
}

TEST(NetPluginLoader, NameAndPathResolution) {
  // A name: libnccl-net-<name>.so through the library search path.
  Choice c = choose({{"NCCL_NET_PLUGIN", "tcptest-v9"}});
  EXPECT_TRUE(endsWith(c.fields["library"], "/libnccl-net-tcptest-v9.so")) << c.report;
  // A library file name is opened as given.
  c = choose({{"NCCL_NET_PLUGIN", "libnccl-net-tcptest-v7.so"}});
  EXPECT_EQ(c.fields["version"], "7") << c.report;
  // A path.
  c = choose({{"NCCL_NET_PLUGIN", pluginPath("libnccl-net-tcptest-v6.so")}});
  EXPECT_EQ(c.fields["version"], "6") << c.report;
  // Absent, in each form: one WARN naming what was looked for, and the Socket transport.
  c = choose({{"NCCL_NET_PLUGIN", "nosuch"}});
  EXPECT_EQ(c.fields["network"], "Socket") << c.report;
  EXPECT_EQ(warnLines(c.log), 1) << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL WARN", "could not find nosuch nor libnccl-net-nosuch.so",
                               "TCCL's own Socket transport"}),
            1)
      << c.log;
  c = choose({{"NCCL_NET_PLUGIN", "libnccl-net-nosuch.so"}});  // never libnccl-net-libnccl-...
  EXPECT_EQ(countLines(c.log, {"NCCL WARN", "cannot use libnccl-net-nosuch.so: not found"}), 1)
      << c.log;
  c = choose({{"NCCL_NET_PLUGIN", "/nonexistent/libnccl-net-x.so"}});
  EXPECT_EQ(countLines(c.log, {"NCCL WARN", "/nonexistent/libnccl-net-x.so: not found"}), 1)
      << c.log;
}

TEST(NetPluginLoader, ListTriesEachPluginInOrder) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "nosym,tcptest-v8,tcptest"}});
  EXPECT_EQ(c.fields["result"], "ncclSuccess") << c.report;
  EXPECT_EQ(c.fields["version"], "8");
  EXPECT_EQ(warnLines(c.log), 1) << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL WARN", "libnccl-net-nosym.so", "trying the next plugin"}), 1)
      << c.log;
  // Under NCCL_NET, said once the network is found.
  c = choose({{"NCCL_NET_PLUGIN", "nosym,tcptest-v8"}, {"NCCL_NET", "TestTCP"}});
  EXPECT_EQ(c.fields["version"], "8") << c.report;
  EXPECT_EQ(countLines(c.log, {"NCCL WARN", "libnccl-net-nosym.so", "TestTCP is used"}), 1)
      << c.log;
}

TEST(NetPluginLoader, MissingSymbolFallsBackWithOneWarn) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "nosym"}});
  EXPECT_EQ(c.fields["result"], "ncclSuccess") << c.report;
  EXPECT_EQ(c.fields["network"], "Socket");
  EXPECT_EQ(warnLines(c.log), 1) << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL WARN", "libnccl-net-nosym.so",
                               "exports none of ncclNetPlugin_v10 ... ncclNetPlugin_v6",
                               "NIC hops use TCCL's own Socket transport"}),
            1)
      << c.log;
  EXPECT_EQ(countLines(c.log, {"Using network Socket"}), 1) << c.log;
}

TEST(NetPluginLoader, TableWithoutIsendFallsBackWithOneWarn) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "nullfn"}});
  EXPECT_EQ(c.fields["network"], "Socket") << c.report;
  EXPECT_EQ(warnLines(c.log), 1) << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL WARN", "its ncclNetPlugin_v10 has no isend"}), 1) << c.log;
}

TEST(NetPluginLoader, InitFailureFallsBackWithOneWarn) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "initfail"}});
  EXPECT_EQ(c.fields["result"], "ncclSuccess") << c.report;
  EXPECT_EQ(c.fields["network"], "Socket");
  EXPECT_EQ(warnLines(c.log), 1) << c.log;
  EXPECT_EQ(countLines(c.log, {"NCCL WARN",
                               "plugin TestTCP (v10) failed to initialize: init "
                               "returned ncclSystemError"}),
            1)
      << c.log;
}

TEST(NetPluginLoader, BrokenPluginIsAnErrorUnderNcclNet) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "nosym"}, {"NCCL_NET", "TestTCP"}});
  EXPECT_EQ(c.fields["result"], "ncclInvalidUsage") << c.report;
  EXPECT_NE(c.fields["error"].find("NCCL_NET=TestTCP: no network of that name can be used"),
            std::string::npos)
      << c.fields["error"];
  EXPECT_NE(c.fields["error"].find("exports none of"), std::string::npos) << c.fields["error"];
  EXPECT_EQ(countLines(c.log, {"Using network"}), 0) << c.log;

  c = choose({{"NCCL_NET_PLUGIN", "initfail"}, {"NCCL_NET", "TestTCP"}});
  EXPECT_EQ(c.fields["result"], "ncclInvalidUsage") << c.report;
  EXPECT_NE(c.fields["error"].find("failed to initialize: init returned ncclSystemError"),
            std::string::npos)
      << c.fields["error"];
  EXPECT_EQ(warnLines(c.log), 1) << "the error's own line only: " << c.log;
}

TEST(NetPluginLoader, NcclNetPicksTheNetworkByName) {
  Choice c = choose({{"NCCL_NET_PLUGIN", "tcptest"}, {"NCCL_NET", "testtcp"}});
  EXPECT_EQ(c.fields["network"], "TestTCP") << c.report;  // case-insensitive, as NCCL
  for (const char* socket : {"Socket", "socket"}) {
    c = choose({{"NCCL_NET_PLUGIN", "tcptest"}, {"NCCL_NET", socket}});
    EXPECT_EQ(c.fields["network"], "Socket") << c.report;
    EXPECT_EQ(countLines(c.log, {"Loaded net plugin"}), 0) << c.log;
  }
  c = choose({{"NCCL_NET_PLUGIN", "tcptest"}, {"NCCL_NET", "IB"}});
  EXPECT_EQ(c.fields["result"], "ncclInvalidUsage") << c.report;
  EXPECT_NE(c.fields["error"].find("its network is TestTCP"), std::string::npos)
      << c.fields["error"];
  c = choose({{"NCCL_NET_PLUGIN", "none"}, {"NCCL_NET", "IB"}});
  EXPECT_EQ(c.fields["result"], "ncclInvalidUsage") << c.report;
  EXPECT_NE(c.fields["error"].find("no net plugin was loaded"), std::string::npos)
      << c.fields["error"];
}

TEST(NetPluginLoader, InitializesOncePerProcess) {
  test::ChildRun run = runInChild({{"NCCL_NET_PLUGIN", "tcptest"}}, [] {
    NetworkChoice a, b;
    if (chooseNetwork(readNetPluginEnv(), &a) != ncclSuccess ||
        chooseNetwork(readNetPluginEnv(), &b) != ncclSuccess || !a.plugin)
      return std::string("choice failed");
    auto stats = test::testNetStats(a.plugin->library());
    return "same=" + std::to_string(a.plugin == b.plugin) +
           "\ninits=" + std::to_string(stats ? stats->initCalls : -1) + "\n";
  });
  auto fields = parse(run.report);
  EXPECT_EQ(fields["same"], "1") << run.report;
  EXPECT_EQ(fields["inits"], "1") << run.report;
  EXPECT_EQ(countLines(run.log, {"already initialized"}), 1) << run.log;

  // A failed init is not retried either: the second choice reports the first failure.
  run = runInChild({{"NCCL_NET_PLUGIN", "initfail"}}, [] {
    NetworkChoice a, b;
    chooseNetwork(readNetPluginEnv(), &a);
    chooseNetwork(readNetPluginEnv(), &b);
    return "fallback=" + std::to_string(!a.plugin && !b.plugin) + "\n";
  });
  EXPECT_EQ(parse(run.report)["fallback"], "1") << run.report;
  EXPECT_EQ(countLines(run.log, {"init fails on purpose"}), 1) << run.log;
  EXPECT_EQ(countLines(run.log, {"NCCL WARN", "failed to initialize"}), 2) << run.log;
}

// Communicators ask core/network_choice.h, which chooses once per process: a plugin that
// fails costs one WARN however many communicators are made, and a failure under NCCL_NET is
// the same error for every one. ncclConfig_t.netName stands in for NCCL_NET.
TEST(CommNetwork, ChoosesOncePerProcess) {
  test::ChildRun run = runInChild({{"NCCL_NET_PLUGIN", "initfail"}}, [] {
    std::shared_ptr<NetPlugin> a, b;
    const ncclResult_t ra = commNetwork("", &a), rb = commNetwork("", &b);
    const ncclResult_t rn = commNetwork("TestTCP", &a);
    return "ok=" + std::to_string(ra == ncclSuccess && rb == ncclSuccess && !a && !b) +
           "\nnamed=" + resultName(rn) + "\nerror=" + lastThreadError() + "\n";
  });
  auto fields = parse(run.report);
  EXPECT_EQ(fields["ok"], "1") << run.report;
  EXPECT_EQ(fields["named"], "ncclInvalidUsage") << run.report;
  EXPECT_NE(fields["error"].find("NCCL_NET=TestTCP: no network of that name"), std::string::npos)
      << run.report;
  EXPECT_EQ(countLines(run.log, {"NCCL WARN", "failed to initialize",
                                 "NIC hops use TCCL's own Socket transport"}),
            1)
      << run.log;
  EXPECT_EQ(countLines(run.log, {"Using network Socket"}), 1) << run.log;

  run = runInChild({{"NCCL_NET_PLUGIN", "tcptest"}, {"NCCL_NET", "Socket"}}, [] {
    std::shared_ptr<NetPlugin> a, b;
    commNetwork("", &a);
    commNetwork("testtcp", &b);  // the config's name wins over NCCL_NET
    return "env=" + std::string(a ? a->name() : "Socket") +
           "\nconfig=" + std::string(b ? b->name() : "Socket") + "\n";
  });
  fields = parse(run.report);
  EXPECT_EQ(fields["env"], "Socket") << run.report;
  EXPECT_EQ(fields["config"], "TestTCP") << run.report;
}

// makeVDevice exists from v9 on; the new device's properties list the devices it fuses.
std::string fuseFirstDevice() {
  NetworkChoice choice;
  if (chooseNetwork(readNetPluginEnv(), &choice) != ncclSuccess || !choice.plugin)
    return "no plugin";
  NetPlugin& net = *choice.plugin;
  const int physical[] = {0};
  int dev = -1;
  const ncclResult_t res = net.makeVirtualDevice(physical, &dev);
  std::string out = "result=" + std::string(resultName(res)) + "\n";
  if (res != ncclSuccess) return out;
  const NetDeviceProperties& p = net.device(dev);
  return out + "dev=" + std::to_string(dev) + "\ncount=" + std::to_string(net.deviceCount()) +
         "\nfused=" + std::to_string(p.fusedDevices.size()) + ":" +
         std::to_string(p.fusedDevices.at(0)) + "\nname=" + p.name + "\n";
}

TEST(NetPluginLoader, VirtualDevicesFromV9On) {
  for (const char* plugin : {"tcptest", "tcptest-v9"}) {
    auto fields = parse(runInChild({{"NCCL_NET_PLUGIN", plugin}}, fuseFirstDevice).report);
    EXPECT_EQ(fields["result"], "ncclSuccess") << plugin;
    EXPECT_EQ(fields["dev"], "1") << plugin;
    EXPECT_EQ(fields["count"], "2") << plugin;
    EXPECT_EQ(fields["fused"], "1:0") << plugin;
    EXPECT_EQ(fields["name"], "lo") << plugin;
  }
  auto fields = parse(runInChild({{"NCCL_NET_PLUGIN", "tcptest-v8"}}, fuseFirstDevice).report);
  EXPECT_EQ(fields["result"], "ncclInvalidUsage") << "v8 has no makeVDevice";
}

}  // namespace
}  // namespace tccl
