// Plugin devices placed among a topology's NICs (topo/plugin_nics.h): matched by PCI bus id,
// added on the NUMA node that a (fake) sysfs gives, guessed onto NUMA node 0 with a warning
// that names the problem; the plugin device that a NIC hop uses; and the test plugin reporting
// the names and pciPaths it is told to, mapped and described as the runtime logs them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "net_plugin_test_util.h"
#include "topo/plugin_nics.h"
#include "topo/topology.h"
#include "transport/net_plugin/net_plugin_loader.h"
#include "transport/net_plugin/net_plugin_nics.h"

namespace tccl::topo {
namespace {

// NUMA 0: root port rp-0000:3a:00.0 with the NIC mlx5_0 (bus 0000:3b:00.0).
// NUMA 1: root port rp1 with switch sw-0000:80:02.0 under it, and a GPU.
std::string nodeJson(const std::string& nicBusId = "0000:3b:00.0") {
  return R"({
  "name": "plugin-nics", "cpu_model": "test cpu",
  "sockets": [{"link_gbps": 100}],
  "numa_nodes": [{"socket": 0, "memory_gbps": 40, "fabric_gbps": 20},
                 {"socket": 0, "memory_gbps": 40, "fabric_gbps": 20}],
  "pcie": [{"id": "rp-0000:3a:00.0", "type": "root_port", "numa": 0, "up_gbps": 16, "down_gbps": 16},
           {"id": "rp1", "type": "root_port", "numa": 1, "up_gbps": 15, "down_gbps": 15},
           {"id": "sw-0000:80:02.0", "type": "switch", "parent": "rp1", "up_gbps": 14, "down_gbps": 14}],
  "gpus": [{"bus_id": "0000:81:00.0", "model": "G", "numa": 1, "parent": "rp1", "up_gbps": 10, "down_gbps": 10}],
  "nics": [{"name": "mlx5_0", "bus_id": ")" +
         nicBusId +
         R"(", "numa": 0, "parent": "rp-0000:3a:00.0", "up_gbps": 12, "down_gbps": 12, "wire_gbps": 12.5}]
})";
}

Topology node() {
  LoadedTopology t = parseTopology(nodeJson());
  EXPECT_TRUE(t.topology) << t.error;
  return t.topology ? *t.topology : Topology{};
}

// A directory tree that plays /sys: <root><pciPath>/numa_node holding `numa`.
class FakeSysfs {
 public:
  FakeSysfs() {
    char dir[] = "/tmp/tccl-fake-sysfs-XXXXXX";
    root_ = mkdtemp(dir) ? dir : "";
  }
  ~FakeSysfs() { std::filesystem::remove_all(root_); }
  void setNuma(const std::string& pciPath, const std::string& numa) {
    std::filesystem::create_directories(root_ + pciPath);
    std::ofstream(root_ + pciPath + "/numa_node") << numa << "\n";
  }
  PciNumaLocator locator() const { return sysfsNumaLocator(root_); }

 private:
  std::string root_;
};

PluginNetDevice device(const std::string& name, const std::string& pciPath, int mbps = 100000) {
  return {.name = name,
          .pciPath = pciPath,
          .speedMbps = mbps,
          .port = 1,
          .latencyUs = 0,
          .gpuDirect = true};
}

TEST(PluginNics, BusIdIsTheLastComponentOfThePciPath) {
  EXPECT_EQ(pciBusIdOfPath("/sys/devices/pci0000:3a/0000:3a:00.0/0000:3B:00.1"), "0000:3b:00.1");
  EXPECT_EQ(pciBusIdOfPath("/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/"), "0000:3b:00.0");
  EXPECT_FALSE(pciBusIdOfPath("/sys/devices/pci0000:3a"));
  EXPECT_FALSE(pciBusIdOfPath(""));
  EXPECT_FALSE(pciBusIdOfPath("/sys/devices/virtual/net/lo"));
}

TEST(PluginNics, DeviceMatchesTheNicWithItsBusId) {
  FakeSysfs sysfs;
  const PluginNicMerge m = mergePluginDevices(
      node(), {device("mlx5_0", "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0")},
      sysfs.locator());
  ASSERT_EQ(m.topology.nics.size(), 1u);
  EXPECT_EQ(m.foundNics, 1);
  EXPECT_EQ(m.map.nicOfDevice, std::vector<int>{0});
  EXPECT_EQ(m.map.deviceOfNic, std::vector<int>{0});
  EXPECT_TRUE(m.warnings.empty());
}

TEST(PluginNics, UnmatchedDeviceIsAddedOnTheNumaNodeOfItsSysfsEntry) {
  FakeSysfs sysfs;
  const std::string underSwitch = "/sys/devices/pci0000:80/0000:80:02.0/0000:82:00.0";
  const std::string elsewhere = "/sys/devices/pci0000:80/0000:80:03.0/0000:83:00.0";
  sysfs.setNuma(underSwitch, "1");
  sysfs.setNuma(elsewhere, "1");
  const PluginNicMerge m = mergePluginDevices(
      node(), {device("mlx5_1", underSwitch, 200000), device("mlx5_2", elsewhere)},
      sysfs.locator());
  EXPECT_TRUE(m.warnings.empty()) << m.warnings.front();
  ASSERT_EQ(m.topology.nics.size(), 3u);
  EXPECT_EQ(m.map.nicOfDevice, (std::vector<int>{1, 2}));
  EXPECT_EQ(m.map.deviceOfNic, (std::vector<int>{-1, 0, 1}));
  const Nic& a = m.topology.nics[1];
  EXPECT_EQ(a.name, "mlx5_1");
  EXPECT_EQ(a.busId, "0000:82:00.0");
  EXPECT_EQ(a.numa, 1);
  EXPECT_EQ(m.topology.pcie[a.parent].id, "sw-0000:80:02.0");  // its bridge is in the tree
  EXPECT_DOUBLE_EQ(a.wireGbps, 25);                            // 200000 Mbps
  EXPECT_DOUBLE_EQ(a.upGbps, 14);
  EXPECT_TRUE(a.gpuDirect);
  const Nic& b = m.topology.nics[2];
  EXPECT_EQ(b.numa, 1);
  EXPECT_EQ(m.topology.pcie[b.parent].id, "rp1");  // no bridge of it is: the first root port
  // The result is a valid topology file.
  LoadedTopology back = parseTopology(topologyToJson(m.topology));
  ASSERT_TRUE(back.topology) << back.error;
  EXPECT_EQ(back.topology->nics[1].busId, "0000:82:00.0");
}

TEST(PluginNics, DeviceWithoutPciPathGoesOnNumaNodeZeroWithAWarning) {
  FakeSysfs sysfs;
  const PluginNetDevice virtualNic = device("tcp0", "");
  const PluginNicMerge m = mergePluginDevices(node(), {virtualNic}, sysfs.locator());
  ASSERT_EQ(m.topology.nics.size(), 2u);
  EXPECT_EQ(m.map.nicOfDevice, std::vector<int>{1});
  EXPECT_EQ(m.topology.nics[1].numa, 0);
  EXPECT_EQ(m.topology.nics[1].busId, "");
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_NE(m.warnings[0].find("plugin device 0 'tcp0' reports no pciPath"), std::string::npos)
      << m.warnings[0];
  EXPECT_NE(m.warnings[0].find("NUMA node 0"), std::string::npos) << m.warnings[0];
}

TEST(PluginNics, UnknownNumaNodeGoesOnNodeZeroWithAWarning) {
  FakeSysfs sysfs;
  const std::string noEntry = "/sys/devices/pci0000:90/0000:90:01.0/0000:91:00.0";
  const std::string minusOne = "/sys/devices/pci0000:90/0000:90:01.0/0000:92:00.0";
  const std::string tooHigh = "/sys/devices/pci0000:90/0000:90:01.0/0000:93:00.0";
  sysfs.setNuma(minusOne, "-1");
  sysfs.setNuma(tooHigh, "7");
  const PluginNicMerge m = mergePluginDevices(
      node(), {device("a", noEntry), device("b", minusOne), device("c", tooHigh)}, sysfs.locator());
  ASSERT_EQ(m.warnings.size(), 3u);
  EXPECT_NE(m.warnings[0].find("the NUMA node of pciPath '" + noEntry + "' is unknown"),
            std::string::npos)
      << m.warnings[0];
  EXPECT_NE(m.warnings[1].find("'" + minusOne + "' is unknown"), std::string::npos)
      << m.warnings[1];
  EXPECT_NE(m.warnings[2].find("NUMA node 7, which the topology lacks"), std::string::npos)
      << m.warnings[2];
  for (int nic : m.map.nicOfDevice) EXPECT_EQ(m.topology.nics[nic].numa, 0);
}

TEST(PluginNics, BadPciPathTextIsNamedInTheWarning) {
  FakeSysfs sysfs;
  const PluginNicMerge m =
      mergePluginDevices(node(), {device("eth0", "not a sysfs path")}, sysfs.locator());
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_NE(m.warnings[0].find("pciPath 'not a sysfs path' does not end in a PCI bus id"),
            std::string::npos)
      << m.warnings[0];
  EXPECT_EQ(m.topology.nics[m.map.nicOfDevice[0]].numa, 0);
}

TEST(PluginNics, PortsOfOneCardShareItsNic) {
  FakeSysfs sysfs;
  const std::string card = "/sys/devices/pci0000:80/0000:80:03.0/0000:84:00.0";
  sysfs.setNuma(card, "1");
  const PluginNicMerge m =
      mergePluginDevices(node(), {device("mlx5_4", card), device("mlx5_4", card)}, sysfs.locator());
  EXPECT_EQ(m.map.nicOfDevice, (std::vector<int>{1, 1}));
  EXPECT_EQ(m.map.deviceOfNic, (std::vector<int>{-1, 0}));
  EXPECT_EQ(m.topology.nics.size(), 2u);
}

TEST(PluginNics, TopologyFileNicBusIdIsOptionalAndChecked) {
  Topology t = node();
  ASSERT_EQ(t.nics.size(), 1u);
  EXPECT_EQ(t.nics[0].busId, "0000:3b:00.0");
  LoadedTopology without = parseTopology(nodeJson(""));
  ASSERT_TRUE(without.topology) << without.error;
  EXPECT_EQ(without.topology->nics[0].busId, "");
  LoadedTopology bad = parseTopology(nodeJson("3b:00.0"));
  ASSERT_FALSE(bad.topology);
  EXPECT_NE(bad.error.find("nics[0].bus_id"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("3b:00.0"), std::string::npos) << bad.error;
}

TEST(PluginNics, NicHopUsesTheDeviceMappedToItsNic) {
  PluginNicMap map;
  map.deviceOfNic = {-1, 2, 0};
  std::string why;
  EXPECT_EQ(pluginDeviceForNic(&map, 1, 3, &why), 2);
  EXPECT_EQ(why, "");
  EXPECT_EQ(pluginDeviceForNic(&map, 2, 3, &why), 0);
  EXPECT_EQ(why, "");
  // NIC 0 has no plugin device: the NIC index modulo the devices, and why.
  EXPECT_EQ(pluginDeviceForNic(&map, 0, 3, &why), 0);
  EXPECT_EQ(why, "no plugin device is on NIC 0");
  EXPECT_EQ(pluginDeviceForNic(&map, 4, 3, &why), 1);
  EXPECT_EQ(why, "the topology has no NIC 4");
  // A hop that names no NIC uses NIC 0's device.
  map.deviceOfNic = {1, 0};
  EXPECT_EQ(pluginDeviceForNic(&map, -1, 2, &why), 1);
  EXPECT_EQ(why, "");
  // Without a map: the old rule.
  EXPECT_EQ(pluginDeviceForNic(nullptr, 3, 2, &why), 1);
  EXPECT_EQ(why, "plugin devices are not mapped to NICs");
  map.whyNone = "the node's topology is unknown";
  EXPECT_EQ(pluginDeviceForNic(&map, 0, 2, &why), 0);
  EXPECT_EQ(why, "the node's topology is unknown");
}

// The test plugin reports the names and pciPaths it is told; the runtime's lines name them.
TEST(PluginNics, TestPluginDevicesAreMappedAndDescribed) {
  const std::string path = "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0";
  const test::ChildRun run = test::runInChild(
      {{"NCCL_NET_PLUGIN", test::pluginPath("libnccl-net-tcptest.so")},
       {"TCCL_TESTNET_NAMES", "mlx5_0"},
       {"TCCL_TESTNET_PCI_PATHS", path}},
      [] {
        NetworkChoice choice;
        if (chooseNetwork(readNetPluginEnv(), &choice) != ncclSuccess || !choice.plugin)
          return std::string("no plugin: ") + lastThreadError();
        const PluginNicMerge m = mergePluginNics(*choice.plugin, node());
        std::string out;
        for (const std::string& line : describePluginNics(*choice.plugin, m)) out += line + "\n";
        for (const std::string& w : m.warnings) out += "warning: " + w + "\n";
        return out;
      });
  ASSERT_EQ(run.exitCode, 0) << run.log;
  EXPECT_EQ(run.report, "NET/TestTCP dev 0 'mlx5_0' pciPath " + path +
                            " -> NIC 0 (mlx5_0) NUMA node 0, 10000 Mbps\n");
}

}  // namespace
}  // namespace tccl::topo
