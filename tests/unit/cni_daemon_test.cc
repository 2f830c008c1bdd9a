// CniDaemon (cni/cni_daemon.h) with an in-memory store, Neutron and VIF
// plugger: what ADD plugs and answers, the ACTIVE wait per port, DEL
// across a restart of the daemon, stale DELs, malformed requests.
#include "cni/cni_daemon.h"

#include <filesystem>
#include <fstream>

#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "db/mem_capsule_store.h"
#include "openstack/fake_neutron.h"
#include "tests/support/test_env.h"

namespace zun::cni {
namespace {

using nlohmann::json;

// Records plugs; fails the plug of a named interface when told to.
class RecordingPlugger final : public VifPlugger {
 public:
  absl::Status Plug(const Vif& vif, const std::string& netns,
                    const std::string& ifname, bool gw) override {
    absl::MutexLock l(&mu_);
    if (ifname == fail_ifname) return absl::InternalError("no such bridge");
    plugged[ifname] = {vif.id, netns, gw};
    return absl::OkStatus();
  }
  absl::Status Unplug(const Vif& vif, const std::string&,
                      const std::string& ifname) override {
    absl::MutexLock l(&mu_);
    unplugged.push_back(ifname + ":" + vif.id);
    plugged.erase(ifname);
    return absl::OkStatus();
  }
  absl::Status Check(const Vif&, const std::string&,
                     const std::string& ifname) override {
    absl::MutexLock l(&mu_);
    return plugged.count(ifname) ? absl::OkStatus()
                                 : absl::FailedPreconditionError("gone");
  }
  struct Plugged {
    std::string port, netns;
    bool gateway = false;
  };
  absl::Mutex mu_;
  std::map<std::string, Plugged> plugged;
  std::vector<std::string> unplugged;
  std::string fail_ifname;
};

Vif MakeVif(const std::string& port, const std::string& net) {
  Vif v;
  v.id = port;
  v.address = "fa:16:3e:00:00:01";
  v.vif_name = TapName(port);
  v.plugin = "linux_bridge";
  v.bridge_name = LinuxBridgeName(net);
  v.network.id = net;
  v.network.bridge = v.bridge_name;
  v.network.subnets.push_back(
      {"10.0.0.0/24", "10.0.0.1", {}, {"10.0.0.5"}, {}});
  return v;
}

struct Fixture {
  Fixture() { options.state_dir = dir.path(); }
  CniDaemon& Daemon() {
    daemon = std::make_unique<CniDaemon>(store, plugger, neutron,
                                         RealClock::Default(), options);
    return *daemon;
  }
  json Request(const std::string& uuid, const std::string& sandbox = "sb1") {
    return json{{"CNI_COMMAND", "ADD"},
                {"CNI_CONTAINERID", sandbox},
                {"CNI_NETNS", "/var/run/netns/cni-x"},
                {"CNI_IFNAME", "eth0"},
                {"CNI_ARGS",
                 "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
                 "K8S_POD_NAME=" +
                     uuid},
                {"config_zun", {{"cniVersion", "0.3.1"}}}};
  }
  testing::ScopedTempDir dir;
  db::MemCapsuleStore store;
  RecordingPlugger plugger;
  openstack::FakeNeutron neutron;
  DaemonOptions options{absl::Milliseconds(300), absl::Milliseconds(10), ""};
  std::unique_ptr<CniDaemon> daemon;
};

// FakeNeutron assigns port ids itself: create the capsule's ports there
// and name the VIFs after them.
std::string NeutronPort(openstack::FakeNeutron& n, const std::string& net) {
  auto p = n.CreatePort(json{{"network_id", net}});
  REQUIRE(p.ok());
  return (*p)["id"];
}

TEST_CASE("ADD plugs every VIF, waits for ACTIVE, answers the VIF", "[cni]") {
  Fixture f;
  const std::string net = f.neutron.AddNetwork("n", "10.0.0");
  const std::string p1 = NeutronPort(f.neutron, net);
  const std::string p2 = NeutronPort(f.neutron, net);
  capsule::Capsule c;
  c.record.uuid = "cap1";
  c.record.cni_metadata =
      CniMetadata(CapsuleVifs{MakeVif(p1, net), {{"eth1", MakeVif(p2, net)}}});
  f.store.Put(c);
  f.neutron.SetPortStatus(p1, "ACTIVE");
  f.neutron.SetPortStatus(p2, "ACTIVE");
  DaemonReply r = f.Daemon().Add(f.Request("cap1"));
  INFO(r.body.dump());
  REQUIRE(r.status == 202);
  CHECK(r.body["versioned_object.name"] == "VIFBridge");
  CHECK(r.body["versioned_object.data"]["id"] == p1);
  CHECK(r.body["versioned_object.data"]["active"] == true);
  CHECK(r.body["zun_additional_vifs"]["eth1"]["versioned_object.data"]["id"] ==
        p2);
  REQUIRE(f.plugger.plugged.size() == 2);
  CHECK(f.plugger.plugged["eth0"].gateway);
  CHECK_FALSE(f.plugger.plugged["eth1"].gateway);
  CHECK(std::filesystem::exists(f.dir.path() + "/cap1.json"));
  CHECK(f.Daemon().Check(f.Request("cap1")).status == 204);

  // DEL from a daemon restarted in between: the record says what to unplug.
  json del = f.Request("cap1");
  del["CNI_COMMAND"] = "DEL";
  // A stale DEL (an earlier sandbox) touches nothing.
  json stale = del;
  stale["CNI_CONTAINERID"] = "sb0";
  CHECK(f.Daemon().Del(stale).status == 204);
  CHECK(f.plugger.unplugged.empty());
  CHECK(f.Daemon().Del(del).status == 204);
  CHECK(f.plugger.unplugged.size() == 2);
  CHECK_FALSE(std::filesystem::exists(f.dir.path() + "/cap1.json"));
  CHECK(f.Daemon().Del(del).status == 204);  // idempotent
}

TEST_CASE("ADD answers 504 while the capsule's own port is not ACTIVE",
          "[cni]") {
  Fixture f;
  const std::string net = f.neutron.AddNetwork("n", "10.0.0");
  const std::string mine = NeutronPort(f.neutron, net);
  const std::string other = NeutronPort(f.neutron, net);
  f.neutron.SetPortStatus(other, "ACTIVE");  // another capsule's port
  capsule::Capsule c;
  c.record.uuid = "cap2";
  c.record.cni_metadata = CniMetadata(CapsuleVifs{MakeVif(mine, net), {}});
  f.store.Put(c);
  DaemonReply r = f.Daemon().Add(f.Request("cap2"));
  CHECK(r.status == 504);
  CHECK_THAT(r.body["reason"].get<std::string>(),
             Catch::Contains("ACTIVE") && Catch::Contains(mine));
  // The plug stays for containerd's DEL, which the record makes possible.
  CHECK(std::filesystem::exists(f.dir.path() + "/cap2.json"));
}

TEST_CASE("ADD failures are 400 or 500 with a reason and leave no plug",
          "[cni]") {
  Fixture f;
  CHECK(f.Daemon().Add(json{{"CNI_ARGS", "K8S_POD_NAME"}}).status == 400);
  CHECK(f.Daemon().Add(json::object()).status == 400);
  DaemonReply missing = f.Daemon().Add(f.Request("nobody"));
  CHECK(missing.status == 500);
  CHECK_THAT(missing.body["reason"].get<std::string>(),
             Catch::Contains("nobody"));
  capsule::Capsule bare;
  bare.record.uuid = "bare";
  f.store.Put(bare);
  DaemonReply none = f.Daemon().Add(f.Request("bare"));
  CHECK(none.status == 500);
  CHECK_THAT(none.body["reason"].get<std::string>(),
             Catch::Contains("cni_metadata"));

  const std::string net = f.neutron.AddNetwork("n", "10.0.0");
  capsule::Capsule two;
  two.record.uuid = "two";
  two.record.cni_metadata = CniMetadata(
      CapsuleVifs{MakeVif(NeutronPort(f.neutron, net), net),
                  {{"eth1", MakeVif(NeutronPort(f.neutron, net), net)}}});
  f.store.Put(two);
  f.plugger.fail_ifname = "eth1";
  DaemonReply half = f.Daemon().Add(f.Request("two"));
  CHECK(half.status == 500);
  CHECK_THAT(half.body["reason"].get<std::string>(),
             Catch::Contains("eth1") && Catch::Contains("no such bridge"));
  CHECK(f.plugger.plugged.empty());  // eth0 was unplugged again
  CHECK_FALSE(std::filesystem::exists(f.dir.path() + "/two.json"));
}

}  // namespace
}  // namespace zun::cni
