// VifPlugger against the real kernel: VIFs plugged into network namespaces
// the tests create, on a bridge of their own, inspected over netlink.
// Needs root. Addresses are private and exist only inside those namespaces;
// the bridge has no uplink, so nothing leaves the machine.
#include "cni/vif_plugger.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cni/netlink.h"
#include "tests/net/net_support.h"
#include "tests/support/poll.h"
#include "tests/support/subprocess.h"

namespace zun::cni {
namespace {

using testing::Addresses;
using testing::BridgeVif;
using testing::GatewayRoutes;
using testing::Ip;
using testing::Link;
using testing::LinkState;
using testing::Scratch;

// A locally administered unicast MAC unique to this process and `n`.
std::string Mac(int n) {
  const int pid = getpid();
  return absl::StrFormat("fa:16:3e:%02x:%02x:%02x", (pid >> 8) & 0xff,
                         pid & 0xff, n & 0xff);
}

void RequireOk(const absl::Status& s) {
  INFO(s.ToString());
  REQUIRE(s.ok());
}

void RequireCode(const absl::Status& s, absl::StatusCode code,
                 const std::string& fragment = "") {
  INFO(s.ToString());
  REQUIRE(s.code() == code);
  REQUIRE(absl::StrContains(s.message(), fragment));
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_CASE("Plug makes eth0 in the netns and puts the tap on a new bridge",
          "[plug]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  const std::string tap = scratch.TapName(0);
  REQUIRE_FALSE(Link("", scratch.bridge()).exists);
  // New interfaces of this netns start with IPv6 off: Plug must turn it on.
  {
    absl::StatusOr<nl::Netns> handle = nl::Netns::Open(ns);
    REQUIRE(handle.ok());
    RequireOk(
        nl::WriteSysctl(*handle, "net/ipv6/conf/default/disable_ipv6", "1"));
  }
  Vif vif = BridgeVif(tap, scratch.bridge(), Mac(0), "10.251.0.0/24",
                      "10.251.0.5", "10.251.0.1");
  vif.network.mtu = 1450;
  VifSubnet v6;
  v6.cidr = "fd00:251::/64";
  v6.gateway = "fd00:251::1";
  v6.ips = {"fd00:251::5"};
  vif.network.subnets.push_back(v6);

  VifPluggerPtr plugger = MakeVifPlugger();
  RequireOk(plugger->Plug(vif, ns, "eth0", /*default_gateway=*/true));

  const LinkState eth0 = Link(ns, "eth0");
  REQUIRE(eth0.exists);
  CHECK(eth0.type == "veth");
  CHECK(eth0.mac == Mac(0));
  CHECK(eth0.mtu == 1450);
  CHECK(eth0.up);
  CHECK(Link(ns, "lo").up);
  CHECK(testing::ReadSysctl(ns, "net/ipv6/conf/eth0/disable_ipv6") == "0");
  const std::vector<std::string> addrs = Addresses(ns, "eth0");
  INFO(absl::StrJoin(addrs, ", "));
  CHECK(Contains(addrs, "10.251.0.5/24"));
  CHECK(Contains(addrs, "fd00:251::5/64"));
  const std::vector<std::string> routes = GatewayRoutes(ns);
  INFO(absl::StrJoin(routes, ", "));
  CHECK(Contains(routes, "default via 10.251.0.1 dev eth0"));
  CHECK(Contains(routes, "default via fd00:251::1 dev eth0"));

  const LinkState bridge = Link("", scratch.bridge());
  REQUIRE(bridge.exists);
  CHECK(bridge.type == "bridge");
  CHECK(bridge.up);
  const std::string sys = absl::StrCat("/sys/class/net/", scratch.bridge());
  CHECK(zun::testing::ReadFile(sys + "/bridge/stp_state") == "0\n");
  CHECK(zun::testing::ReadFile(sys + "/bridge/forward_delay") == "0\n");
  const LinkState host = Link("", tap);
  REQUIRE(host.exists);
  CHECK(host.type == "veth");
  CHECK(host.mtu == 1450);
  CHECK(host.up);
  CHECK(host.master == bridge.ifindex);

  RequireOk(plugger->Check(vif, ns, "eth0"));
}

TEST_CASE("A second VIF becomes eth1 without a default route", "[plug]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  Vif first = BridgeVif(scratch.TapName(0), scratch.bridge(), Mac(0),
                        "10.251.1.0/24", "10.251.1.5", "10.251.1.1");
  Vif second = BridgeVif(scratch.TapName(1), scratch.bridge(), Mac(1),
                         "10.251.2.0/24", "10.251.2.5", "10.251.2.1");
  second.network.subnets[0].routes = {{"192.168.251.0/24", "10.251.2.254"}};
  VifPluggerPtr plugger = MakeVifPlugger();
  RequireOk(plugger->Plug(first, ns, "eth0", true));
  RequireOk(plugger->Plug(second, ns, "eth1", false));

  const LinkState eth1 = Link(ns, "eth1");
  REQUIRE(eth1.exists);
  CHECK(eth1.mac == Mac(1));
  CHECK(eth1.mtu == 1500);  // network MTU 0: the default
  CHECK(Contains(Addresses(ns, "eth1"), "10.251.2.5/24"));
  const std::vector<std::string> routes = GatewayRoutes(ns);
  INFO(absl::StrJoin(routes, ", "));
  CHECK(Contains(routes, "default via 10.251.1.1 dev eth0"));
  CHECK(Contains(routes, "192.168.251.0/24 via 10.251.2.254 dev eth1"));
  CHECK(std::count_if(routes.begin(), routes.end(), [](const std::string& r) {
          return absl::StartsWith(r, "default");
        }) == 1);
  const int bridge = Link("", scratch.bridge()).ifindex;
  CHECK(Link("", first.vif_name).master == bridge);
  CHECK(Link("", second.vif_name).master == bridge);
  RequireOk(plugger->Check(first, ns, "eth0"));
  RequireOk(plugger->Check(second, ns, "eth1"));
}

TEST_CASE("Two netns plugged on one bridge talk over TCP", "[plug]") {
  Scratch scratch;
  const std::string ns1 = scratch.AddNetns();
  const std::string ns2 = scratch.AddNetns();
  VifPluggerPtr plugger = MakeVifPlugger();
  RequireOk(
      plugger->Plug(BridgeVif(scratch.TapName(0), scratch.bridge(), Mac(0),
                              "10.251.3.0/24", "10.251.3.11", "10.251.3.1"),
                    ns1, "eth0", true));
  RequireOk(
      plugger->Plug(BridgeVif(scratch.TapName(1), scratch.bridge(), Mac(1),
                              "10.251.3.0/24", "10.251.3.12", "10.251.3.1"),
                    ns2, "eth0", true));
  RequireOk(testing::TcpExchange(ns1, ns2, "10.251.3.12", absl::Seconds(20)));
  RequireOk(testing::TcpExchange(ns2, ns1, "10.251.3.11", absl::Seconds(20)));
}

TEST_CASE("Concurrent plugs share a bridge that none of them found", "[plug]") {
  Scratch scratch;
  constexpr int kPods = 4;
  std::vector<std::string> netns;
  std::vector<Vif> vifs;
  for (int i = 0; i < kPods; ++i) {
    netns.push_back(scratch.AddNetns());
    vifs.push_back(BridgeVif(
        scratch.TapName(i), scratch.bridge(), Mac(i), "10.251.11.0/24",
        absl::StrCat("10.251.11.", 10 + i), "10.251.11.1"));
  }
  REQUIRE_FALSE(Link("", scratch.bridge()).exists);
  VifPluggerPtr plugger = MakeVifPlugger();  // one per node, shared
  std::vector<absl::Status> results(kPods);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] {
      results[i] = plugger->Plug(vifs[i], netns[i], "eth0", true);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& r : results) RequireOk(r);
  const int bridge = Link("", scratch.bridge()).ifindex;
  for (const Vif& vif : vifs) CHECK(Link("", vif.vif_name).master == bridge);
  RequireOk(testing::TcpExchange(netns[0], netns[kPods - 1],
                                 absl::StrCat("10.251.11.", 10 + kPods - 1),
                                 absl::Seconds(20)));
}

TEST_CASE("Unplug removes the veth but not the bridge and may be repeated",
          "[unplug]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  const std::string tap = scratch.TapName(0);
  const Vif vif = BridgeVif(tap, scratch.bridge(), Mac(0), "10.251.4.0/24",
                            "10.251.4.5", "10.251.4.1");
  VifPluggerPtr plugger = MakeVifPlugger();
  RequireOk(plugger->Plug(vif, ns, "eth0", true));
  REQUIRE(Link("", tap).exists);

  RequireOk(plugger->Unplug(vif, ns, "eth0"));
  CHECK_FALSE(Link("", tap).exists);
  CHECK_FALSE(Link(ns, "eth0").exists);
  CHECK(Link("", scratch.bridge()).exists);  // shared: never deleted
  RequireOk(plugger->Unplug(vif, ns, "eth0"));

  SECTION("a pod-side veth with the VIF's MAC goes, another stays") {
    Ip({"-n", ns.substr(ns.rfind('/') + 1), "link", "add", "eth0", "address",
        Mac(0), "type", "veth", "peer", "name", "peer0"});
    Ip({"-n", ns.substr(ns.rfind('/') + 1), "link", "add", "eth1", "type",
        "veth", "peer", "name", "peer1"});
    RequireOk(plugger->Unplug(vif, ns, "eth0"));
    CHECK_FALSE(Link(ns, "eth0").exists);
    RequireOk(plugger->Unplug(vif, ns, "eth1"));
    CHECK(Link(ns, "eth1").exists);  // another MAC: not ours
  }
  SECTION("after the netns is deleted, and with no netns path") {
    RequireOk(plugger->Plug(vif, ns, "eth0", true));  // plug again works
    scratch.DeleteNetns(ns);
    // The pod end takes the tap along when the kernel tears the netns down
    // (asynchronously, after `ip netns del` returns).
    CHECK(zun::testing::PollUntil([&] { return !Link("", tap).exists; },
                                  absl::Seconds(20)));
    RequireOk(plugger->Unplug(vif, ns, "eth0"));
    RequireOk(plugger->Unplug(vif, "", "eth0"));
  }
}

TEST_CASE("Plug replaces a leftover tap and re-plugs the same VIF", "[plug]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  const std::string tap = scratch.TapName(0);
  const std::string stale_peer = absl::StrCat("ztpeer", getpid());
  scratch.TrackLink(stale_peer);
  Ip({"link", "add", tap, "type", "veth", "peer", "name", stale_peer});
  const Vif vif = BridgeVif(tap, scratch.bridge(), Mac(0), "10.251.5.0/24",
                            "10.251.5.5", "10.251.5.1");
  VifPluggerPtr plugger = MakeVifPlugger();
  RequireOk(plugger->Plug(vif, ns, "eth0", true));
  CHECK_FALSE(Link("", stale_peer).exists);  // the old pair is gone
  CHECK(Link("", tap).master == Link("", scratch.bridge()).ifindex);
  CHECK(Link(ns, "eth0").mac == Mac(0));

  RequireOk(plugger->Plug(vif, ns, "eth0", true));
  RequireOk(plugger->Check(vif, ns, "eth0"));
}

TEST_CASE("Check passes after Plug and names what differs", "[check]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  const std::string tap = scratch.TapName(0);
  Vif vif = BridgeVif(tap, scratch.bridge(), Mac(0), "10.251.6.0/24",
                      "10.251.6.5", "10.251.6.1");
  VifPluggerPtr plugger = MakeVifPlugger();
  RequireOk(plugger->Plug(vif, ns, "eth0", true));
  RequireOk(plugger->Check(vif, ns, "eth0"));

  Vif other_ip = vif;
  other_ip.network.subnets[0].ips = {"10.251.6.6"};
  RequireCode(plugger->Check(other_ip, ns, "eth0"),
              absl::StatusCode::kFailedPrecondition,
              "eth0 lacks address 10.251.6.6/24");
  Vif other_mac = vif;
  other_mac.address = Mac(9);
  RequireCode(plugger->Check(other_mac, ns, "eth0"),
              absl::StatusCode::kFailedPrecondition, "eth0 has MAC");

  Ip({"link", "set", tap, "nomaster"});
  RequireCode(plugger->Check(vif, ns, "eth0"),
              absl::StatusCode::kFailedPrecondition, "is not on bridge");
  Ip({"-n", ns.substr(ns.rfind('/') + 1), "link", "del", "eth0"});
  RequireCode(plugger->Check(vif, ns, "eth0"),
              absl::StatusCode::kFailedPrecondition,
              "eth0 is not in the netns");
}

TEST_CASE("An ovs VIF needs Open vSwitch and unknown plugins are refused",
          "[dispatch]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  const std::string tap = scratch.TapName(0);
  Vif vif = BridgeVif(tap, "br-int", Mac(0), "10.251.7.0/24", "10.251.7.5",
                      "10.251.7.1");
  vif.plugin = "ovs";
  vif.vif_class = VifClass::kOpenVSwitch;
  VifPluggerPtr plugger = MakeVifPlugger();
  RequireCode(plugger->Plug(vif, ns, "eth0", true),
              absl::StatusCode::kFailedPrecondition, "Open vSwitch");
  RequireCode(plugger->Check(vif, ns, "eth0"),
              absl::StatusCode::kFailedPrecondition, "Open vSwitch");
  RequireOk(plugger->Unplug(vif, ns, "eth0"));  // nothing was plugged
  CHECK_FALSE(Link("", tap).exists);
  CHECK_FALSE(Link(ns, "eth0").exists);

  vif.plugin = "vhostuser";
  RequireCode(plugger->Plug(vif, ns, "eth0", true),
              absl::StatusCode::kInvalidArgument, "vhostuser");
}

TEST_CASE("Plug into a missing or wrong netns fails and leaves nothing",
          "[plug]") {
  Scratch scratch;
  const std::string tap = scratch.TapName(0);
  const Vif vif = BridgeVif(tap, scratch.bridge(), Mac(0), "10.251.8.0/24",
                            "10.251.8.5", "10.251.8.1");
  const std::string missing =
      absl::StrCat("/var/run/netns/zunnt-", getpid(), "-missing");
  VifPluggerPtr plugger = MakeVifPlugger();
  RequireCode(plugger->Plug(vif, missing, "eth0", true),
              absl::StatusCode::kNotFound, missing);
  RequireCode(plugger->Check(vif, missing, "eth0"),
              absl::StatusCode::kNotFound);
  RequireOk(plugger->Unplug(vif, missing, "eth0"));
  // A file that is not a netns (the mount point of a deleted one, say).
  char stale[] = "/tmp/zunnt-stale-XXXXXX";
  const int fd = mkstemp(stale);
  REQUIRE(fd >= 0);
  close(fd);
  const absl::Status on_stale = plugger->Plug(vif, stale, "eth0", true);
  const absl::Status unplug_stale = plugger->Unplug(vif, stale, "eth0");
  unlink(stale);
  RequireCode(on_stale, absl::StatusCode::kNotFound, "not a network namespace");
  RequireOk(unplug_stale);
  // The daemon's own namespace is never a pod's.
  RequireCode(plugger->Plug(vif, "/proc/self/ns/net", "eth0", true),
              absl::StatusCode::kInvalidArgument, "own network namespace");
  CHECK_FALSE(Link("", tap).exists);
  CHECK_FALSE(Link("", scratch.bridge()).exists);
}

TEST_CASE("A failure midway removes the half-made veth", "[plug]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  const std::string tap = scratch.TapName(0);
  VifPluggerPtr plugger = MakeVifPlugger();

  SECTION("the bridge name is taken by a link that is not a bridge") {
    const Vif vif = BridgeVif(tap, "lo", Mac(0), "10.251.9.0/24", "10.251.9.5",
                              "10.251.9.1");
    RequireCode(plugger->Plug(vif, ns, "eth0", true),
                absl::StatusCode::kFailedPrecondition, "not a bridge");
  }
  SECTION("the gateway is outside every prefix of the interface") {
    Vif vif = BridgeVif(tap, scratch.bridge(), Mac(0), "10.251.9.0/24",
                        "10.251.9.5", "10.251.9.1");
    vif.network.subnets[0].routes = {{"192.168.251.0/24", "10.251.99.1"}};
    RequireCode(plugger->Plug(vif, ns, "eth0", true),
                absl::StatusCode::kInternal,
                "adding route 192.168.251.0/24 via 10.251.99.1 on eth0: "
                "Network is unreachable");
  }
  CHECK_FALSE(Link("", tap).exists);
  CHECK_FALSE(Link(ns, "eth0").exists);
}

TEST_CASE("Plug refuses malformed VIFs and a taken interface name", "[plug]") {
  Scratch scratch;
  const std::string ns = scratch.AddNetns();
  const std::string tap = scratch.TapName(0);
  const Vif good = BridgeVif(tap, scratch.bridge(), Mac(0), "10.251.10.0/24",
                             "10.251.10.5", "10.251.10.1");
  VifPluggerPtr plugger = MakeVifPlugger();

  Vif bad_mac = good;
  bad_mac.address = "not-a-mac";
  RequireCode(plugger->Plug(bad_mac, ns, "eth0", true),
              absl::StatusCode::kInvalidArgument, "not-a-mac");
  Vif bad_ip = good;
  bad_ip.network.subnets[0].ips = {"fd00::5"};
  RequireCode(plugger->Plug(bad_ip, ns, "eth0", true),
              absl::StatusCode::kInvalidArgument, "fd00::5");
  RequireCode(plugger->Plug(good, ns, "eth0-far-too-long", true),
              absl::StatusCode::kInvalidArgument, "interface name");

  Ip({"-n", ns.substr(ns.rfind('/') + 1), "link", "add", "eth0", "type", "veth",
      "peer", "name", "peer0"});
  RequireCode(plugger->Plug(good, ns, "eth0", true),
              absl::StatusCode::kAlreadyExists, "eth0 already exists");
  CHECK(Link(ns, "eth0").mac != Mac(0));  // left alone
  CHECK_FALSE(Link("", tap).exists);
}

}  // namespace
}  // namespace zun::cni
