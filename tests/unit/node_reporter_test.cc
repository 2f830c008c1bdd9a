#include "node/node_reporter.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "node/host_fs.h"
#include "tests/support/test_env.h"

namespace zun::node {
namespace {

void Write(const std::string& path, const std::string& text) {
  REQUIRE(MakeDirs(path.substr(0, path.rfind('/')), 0755).ok());
  std::ofstream(path) << text;
}

TEST_CASE("host facts come from /proc, /sys and /etc") {
  testing::ScopedTempDir root("zh");
  Write(root.path() + "/proc/meminfo",
        "MemTotal:       2097152 kB\nMemFree:         524288 kB\n"
        "MemAvailable:   1048576 kB\n");
  Write(root.path() + "/sys/devices/system/cpu/online", "0-3,6\n");
  Write(root.path() + "/sys/devices/system/node/node0/cpulist", "0-1\n");
  Write(root.path() + "/sys/devices/system/node/node0/meminfo",
        "Node 0 MemTotal:  1048576 kB\nNode 0 MemFree:   262144 kB\n");
  Write(root.path() + "/sys/devices/system/node/node1/cpulist", "2-3,6\n");
  Write(root.path() + "/sys/devices/system/node/node1/meminfo",
        "Node 1 MemTotal:  1048576 kB\nNode 1 MemFree:   262144 kB\n");
  Write(root.path() + "/etc/os-release",
        "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
  HostInfo h = ReadHostInfo(root.path(), root.path());
  CHECK(h.cpus == 5);
  CHECK(h.mem_total_mib == 2048);
  CHECK(h.mem_available_mib == 1024);
  CHECK(h.os == "Debian GNU/Linux 12 (bookworm)");
  REQUIRE(h.numa.size() == 2);
  CHECK(h.numa[1].cpus == std::vector<int>{2, 3, 6});
  CHECK(h.numa[0].mem_total_mib == 1024);
  CHECK_FALSE(h.architecture.empty());
  CHECK(h.disk_total_gb >= 0);
}

TEST_CASE("the inventory counts capsules and their claims") {
  HostInfo h;
  h.cpus = 8;
  h.mem_total_mib = 16384;
  h.mem_available_mib = 8000;
  h.disk_total_gb = 100;
  h.numa = {NumaNode{0, {0, 1}, 16384, 8000}};
  capsule::Capsule a;
  a.record.uuid = "a";
  a.record.status = "Running";
  a.record.cpu = 1.5;
  a.record.memory = "512";
  capsule::Capsule b = a;
  b.record.uuid = "b";
  b.record.status = "Error";
  b.record.cpu = 0.5;
  const CapsuleVisitor capsules =
      [&](const std::function<void(const capsule::Capsule&)>& fn) {
        fn(a);
        fn(b);
      };
  NodeReporterOptions o;
  o.host = "node-1";
  db::ComputeNodeRecord n = BuildInventory(h, capsules, {"runc", "kata"}, o);
  CHECK(n.hostname == "node-1");
  CHECK(n.total_containers == 2);
  CHECK(n.running_containers == 1);
  CHECK(n.stopped_containers == 1);
  CHECK(n.cpu_used == 2.0);
  CHECK(n.mem_used == 1024);
  CHECK(n.mem_free == 16384 - 1024);
  CHECK(n.disk_total == 80);  // 20% kept for images
  CHECK(n.runtimes == nlohmann::json({"runc", "kata"}));
  CHECK(n.numa_topology["nodes"][0]["cpuset"] == nlohmann::json({0, 1}));
  // Zun's objects read it back: PciDevicePoolList 1.0 (not 1.1).
  const auto pci = nlohmann::json::parse(n.pci_stats);
  CHECK(pci["zun_object.name"] == "PciDevicePoolList");
  CHECK(pci["zun_object.version"] == "1.0");
  CHECK(pci["zun_object.data"]["objects"] == nlohmann::json::array());
  // The row shows the whole host, as Zun's tracker writes it; what the
  // host keeps back is Placement's reserved amount.
  CHECK(n.cpus == 8);
  CHECK(n.mem_total == 16384);
}

}  // namespace
}  // namespace zun::node
