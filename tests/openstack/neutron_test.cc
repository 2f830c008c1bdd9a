// Tenant networking end to end (docs/networking.md): the agent binds
// Neutron ports (real Neutron, ML2 + linuxbridge, authenticating through
// the real Keystone), containerd runs the zun-cni plugin, and
// zun-cni-daemon plugs the ports into the pods. Flat networks with port
// security off on local veth pairs (the `openstack` fixture): traffic stays
// inside the pods' namespaces and the bridges the tests made.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cni/vif.h"
#include "common/uuid.h"
#include "tests/support/agent_harness.h"
#include "tests/support/capsule_cli.h"
#include "tests/support/http.h"
#include "tests/support/openstack_env.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

using nlohmann::json;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

json Body(absl::StatusOr<openstack::HttpResponse> r) {
  REQUIRE(r.ok());
  INFO(r->body);
  REQUIRE(r->status / 100 == 2);
  return json::parse(r->body);
}

// A network with one subnet, removed (with any port left on it) when the
// test ends: "flat" on the fixture's physnet1 (a local veth pair; one flat
// network per physnet at a time), or "local" (a bridge without uplink).
class TenantNetwork {
 public:
  TenantNetwork(TestNeutron& neutron, const std::string& type,
                const std::string& cidr, const std::string& gateway)
      : neutron_(neutron) {
    json spec{{"name", "zuntest-" + type},
              {"tenant_id", "test-project"},
              {"provider:network_type", type},
              {"port_security_enabled", false}};
    if (type == "flat") spec["provider:physical_network"] = "physnet1";
    json net = Body(neutron_.service().Send("POST", "/v2.0/networks",
                                            json{{"network", spec}}.dump()));
    id = net["network"]["id"];
    json subnet =
        Body(neutron_.service().Send("POST", "/v2.0/subnets",
                                     json{{"subnet",
                                           {{"network_id", id},
                                            {"tenant_id", "test-project"},
                                            {"cidr", cidr},
                                            {"ip_version", 4},
                                            {"gateway_ip", gateway},
                                            {"enable_dhcp", false}}}}
                                         .dump()));
    subnet_id = subnet["subnet"]["id"];
  }
  ~TenantNetwork() {
    auto ports = neutron_->ListPorts({{"network_id", id}});
    if (ports.ok()) {
      for (const json& p : *ports) neutron_->DeletePort(p["id"]).IgnoreError();
    }
    neutron_.service().Send("DELETE", "/v2.0/networks/" + id).IgnoreError();
  }
  json Request(const std::string& port = "") const {
    return json{{"network", id},
                {"port", port},
                {"router:external", false},
                {"shared", false},
                {"fixed_ip", ""},
                {"preserve_on_delete", !port.empty()}};
  }

  std::string id;
  std::string subnet_id;

 private:
  TestNeutron& neutron_;
};

// The agent on the fixture's zun-cni containerd, bound to the Neutron L2
// agent's host, and zun-cni-daemon with the same zun.conf.
class NetNode {
 public:
  explicit NetNode(bool on_neutron_host = true) {
    const OpenStackEnv& env = OpenStackEnv::Get();
    HarnessOptions o;
    o.cri_endpoint = env.net_cri_socket;
    o.cgroup_root = env.net_cgroup_root;
    o.cri_request_timeout_s = 120;
    if (on_neutron_host) o.host = env.neutron_host;
    o.extra_config = absl::StrCat(
        env.KeystoneAuthConfig(), "\n[network]\ndriver = cni\n",
        "\n[cni_daemon]\ncni_daemon_port = ", env.cni_daemon_port,
        "\nstate_dir = ", state_.path(),
        "\nvif_active_timeout = 60\nneutron_poll_interval = 0.5\n");
    harness = std::make_unique<AgentHarness>(o);
  }
  ~NetNode() { StopDaemon(); }

  void StartDaemon() {
    auto d = Subprocess::Start({std::string(ZUN_BIN_DIR) + "/zun-cni-daemon",
                                "--config-file", harness->config_path()},
                               harness->dir() + "/zun-cni-daemon.log");
    REQUIRE(d.ok());
    daemon = *std::move(d);
    const int port = OpenStackEnv::Get().cni_daemon_port;
    REQUIRE(PollUntil([&] {
      auto r = HttpRequestTo("127.0.0.1", port, "GET", "/healthz");
      return r.ok() && r->status == 200;
    }));
  }
  void StopDaemon() {
    if (daemon) daemon->Stop().IgnoreError();
    daemon.reset();
  }
  void KillDaemon() {
    REQUIRE(daemon->Signal(SIGKILL).ok());
    REQUIRE(daemon->Wait(absl::Seconds(10)).ok());
    daemon.reset();
  }

  capsule::Capsule Capsule(
      const std::string& name, const std::string& cmd,
      const std::string& image = "localhost/busybox:latest") {
    capsule::ContainerRecord child =
        AgentHarness::Child(name + "-c", {"sh", "-c", cmd}, false, image);
    child.image_pull_policy = "IfNotPresent";
    capsule::Capsule c;
    c.record.name = name;
    c.containers = {child};
    return harness->CreateCapsule(c);
  }
  void Create(const capsule::Capsule& c, const json& networks) {
    json args = harness->CreateArgs(c);
    args["requested_networks"] = networks;
    REQUIRE(harness->Cast("container_create", args).ok());
  }
  std::string Status(const std::string& uuid) {
    return harness->StatusOf(uuid);
  }
  json Column(const std::string& uuid, const std::string& column) {
    auto row = harness->CapsuleRow(uuid);
    REQUIRE(row);
    const std::optional<std::string> v = row->at(column);
    return v ? json::parse(*v) : json();
  }
  // The daemon's record of what it plugged for a capsule (null if none).
  json State(const std::string& uuid) {
    std::ifstream in(state_.path() + "/" + uuid + ".json");
    if (!in) return json();
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str(), nullptr, false);
  }
  std::string Exec(const std::string& uuid, const std::string& cmd) {
    std::vector<SqlRow> kids = harness->ChildRows(uuid);
    REQUIRE(kids.size() == 1);
    auto r = harness->cri().ExecSync(kids[0].at("container_id").value_or(""),
                                     {"sh", "-c", cmd}, absl::Seconds(30));
    REQUIRE(r.ok());
    INFO(r->stderr_data);
    return r->exit_code == 0
               ? std::string(absl::StripTrailingAsciiWhitespace(r->stdout_data))
               : "exit " + std::to_string(r->exit_code);
  }
  std::string Log() {
    std::ifstream in(harness->dir() + "/zun-cni-daemon.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::unique_ptr<AgentHarness> harness;
  std::unique_ptr<Subprocess> daemon;

 private:
  ScopedTempDir state_;
};

std::string PortOf(const json& addresses, const std::string& net) {
  REQUIRE(addresses.contains(net));
  return addresses[net][0]["port"];
}

bool PortGone(TestNeutron& neutron, const std::string& id) {
  return neutron->ShowPort(id).status().code() == absl::StatusCode::kNotFound;
}

TEST_CASE("two capsules on a tenant network talk over Neutron ports") {
  TestNeutron neutron;
  TenantNetwork net(neutron, "flat", "10.78.0.0/24", "10.78.0.1");
  NetNode node;
  node.StartDaemon();
  REQUIRE(node.harness->WaitServing());

  capsule::Capsule web =
      node.Capsule("web",
                   "mkdir -p /www && echo hello-neutron > /www/index.html && "
                   "exec httpd -f -p 8080 -h /www");
  capsule::Capsule client = node.Capsule("client", "exec sleep 3600");
  node.Create(web, json::array({net.Request()}));
  node.Create(client, json::array({net.Request()}));
  INFO(node.Log());
  REQUIRE(PollUntil([&] { return node.Status(web.uuid()) == "Running"; },
                    absl::Seconds(120)));
  REQUIRE(PollUntil([&] { return node.Status(client.uuid()) == "Running"; },
                    absl::Seconds(120)));

  // addresses as upstream writes them, with the real port and subnet.
  const json addresses = node.Column(web.uuid(), "addresses");
  INFO(addresses.dump());
  REQUIRE(addresses.size() == 1);
  const json& a = addresses[net.id][0];
  CHECK(a["version"] == 4);
  CHECK(a["subnet_id"] == net.subnet_id);
  CHECK(a["preserve_on_delete"] == false);
  const std::string web_ip = a["addr"];
  CHECK(absl::StartsWith(web_ip, "10.78.0."));
  const std::string port_id = a["port"];
  auto port = neutron->ShowPort(port_id);
  REQUIRE(port.ok());
  CHECK((*port)["status"] == "ACTIVE");
  CHECK((*port)["device_id"] == web.uuid());
  CHECK((*port)["device_owner"] == "compute:zun");
  CHECK((*port)["binding:host_id"] == node.harness->host());
  CHECK((*port)["binding:vif_type"] == "bridge");
  CHECK((*port)["tenant_id"] == "test-project");

  // cni_metadata: the VIFState of that port, a Linux-bridge VIF.
  auto vifs = cni::ParseCniMetadata(node.Column(web.uuid(), "cni_metadata"));
  REQUIRE(vifs.ok());
  CHECK(vifs->default_vif.id == port_id);
  CHECK(vifs->default_vif.address == (*port)["mac_address"]);
  CHECK(vifs->default_vif.plugin == "linux_bridge");
  CHECK(vifs->additional.empty());
  const std::string tap = cni::TapName(port_id);
  const std::string bridge = cni::LinuxBridgeName(net.id);
  CHECK(Exists("/sys/class/net/" + bridge + "/brif/" + tap));

  // The pod has the port's address and MAC, and one pod serves the other
  // across the bridge.
  CHECK(absl::StrContains(node.Exec(web.uuid(), "ip -4 addr show eth0"),
                          web_ip + "/24"));
  CHECK(node.Exec(web.uuid(), "cat /sys/class/net/eth0/address") ==
        (*port)["mac_address"]);
  std::string page;
  const bool served = PollUntil(
      [&] {
        // busybox's static wget crashes resolving names through NSS; nc
        // speaks the HTTP request itself.
        page = node.Exec(client.uuid(),
                         "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | "
                         "nc -w 3 " +
                             web_ip + " 8080");
        return absl::StrContains(page, "hello-neutron");
      },
      absl::Seconds(30), absl::Milliseconds(500));
  if (!served) {
    WARN(page << "\n"
              << node.Exec(client.uuid(), "ip addr; ip route; ping -c 1 -W 2 " +
                                              web_ip + " 2>&1")
              << "\n"
              << node.Exec(web.uuid(), "ip addr; netstat -ltn 2>&1"));
  }
  REQUIRE(served);

  // Delete: the port, the tap, the netns and the daemon's record go.
  const json state = node.State(web.uuid());
  REQUIRE(state.is_object());
  const std::string netns = state["netns"];
  CHECK(Exists(netns));
  REQUIRE(node.harness->CastDelete(web, true).ok());
  REQUIRE(PollUntil([&] { return !node.harness->CapsuleRow(web.uuid()); },
                    absl::Seconds(60)));
  CHECK(PortGone(neutron, port_id));
  CHECK_FALSE(Exists("/sys/class/net/" + tap));
  CHECK_FALSE(Exists(netns));
  CHECK(node.State(web.uuid()).is_null());
  REQUIRE(node.harness->CastDelete(client, true).ok());
  REQUIRE(PollUntil([&] { return !node.harness->CapsuleRow(client.uuid()); },
                    absl::Seconds(60)));
}

TEST_CASE("a failed create leaves no port, tap or plug behind") {
  TestNeutron neutron;
  TenantNetwork net(neutron, "flat", "10.78.1.0/24", "10.78.1.1");
  NetNode node;
  node.StartDaemon();
  REQUIRE(node.harness->WaitServing());
  // The sandbox (and its plug) exists when the image pull fails.
  capsule::Capsule c =
      node.Capsule("noimage", "true", "localhost/no-such-image:1");
  node.Create(c, json::array({net.Request()}));
  REQUIRE(PollUntil([&] { return node.Status(c.uuid()) == "Error"; },
                    absl::Seconds(120)));
  auto left = neutron->ListPorts({{"device_id", c.uuid()}});
  REQUIRE(left.ok());
  CHECK(left->empty());
  auto on_net = neutron->ListPorts({{"network_id", net.id}});
  REQUIRE(on_net.ok());
  CHECK(on_net->empty());
  CHECK(node.State(c.uuid()).is_null());
  CHECK(node.Column(c.uuid(), "cni_metadata").is_null());
}

TEST_CASE("a port Neutron cannot bind here fails the capsule clearly") {
  TestNeutron neutron;
  TenantNetwork net(neutron, "flat", "10.78.2.0/24", "10.78.2.1");
  NetNode node(/*on_neutron_host=*/false);  // no L2 agent on that host
  REQUIRE(node.harness->WaitServing());
  capsule::Capsule c = node.Capsule("unbindable", "sleep 3600");
  node.Create(c, json::array({net.Request()}));
  REQUIRE(PollUntil([&] { return node.Status(c.uuid()) == "Error"; },
                    absl::Seconds(60)));
  const std::string reason =
      node.harness->CapsuleRow(c.uuid())->at("status_reason").value_or("");
  CHECK_THAT(reason, Catch::Contains("binding_failed") &&
                         Catch::Contains(node.harness->host()));
  auto left = neutron->ListPorts({{"device_id", c.uuid()}});
  REQUIRE(left.ok());
  CHECK(left->empty());
}

TEST_CASE("a user's port is used, and survives the delete unbound") {
  TestNeutron neutron;
  TenantNetwork net(neutron, "flat", "10.78.3.0/24", "10.78.3.1");
  auto mine = neutron->CreatePort(json{{"network_id", net.id},
                                       {"tenant_id", "test-project"},
                                       {"name", "users-own"}});
  REQUIRE(mine.ok());
  const std::string port_id = (*mine)["id"];
  NetNode node;
  node.StartDaemon();
  REQUIRE(node.harness->WaitServing());
  capsule::Capsule c = node.Capsule("byport", "exec sleep 3600");
  node.Create(c, json::array({net.Request(port_id)}));
  INFO(node.Log());
  REQUIRE(PollUntil([&] { return node.Status(c.uuid()) == "Running"; },
                    absl::Seconds(120)));
  const json addresses = node.Column(c.uuid(), "addresses");
  CHECK(PortOf(addresses, net.id) == port_id);
  CHECK(addresses[net.id][0]["preserve_on_delete"] == true);
  CHECK(addresses[net.id][0]["addr"] == (*mine)["fixed_ips"][0]["ip_address"]);
  auto bound = neutron->ShowPort(port_id);
  REQUIRE(bound.ok());
  CHECK((*bound)["device_id"] == c.uuid());
  CHECK((*bound)["status"] == "ACTIVE");

  REQUIRE(node.harness->CastDelete(c, true).ok());
  REQUIRE(PollUntil([&] { return !node.harness->CapsuleRow(c.uuid()); },
                    absl::Seconds(60)));
  auto after = neutron->ShowPort(port_id);
  REQUIRE(after.ok());
  CHECK((*after)["device_id"] == "");
  CHECK((*after)["device_owner"] == "");
  CHECK((*after)["binding:host_id"] == "");
  CHECK_FALSE(Exists("/sys/class/net/" + cni::TapName(port_id)));
}

TEST_CASE("a capsule on two networks gets two interfaces") {
  TestNeutron neutron;
  TenantNetwork net1(neutron, "flat", "10.78.4.0/24", "10.78.4.1");
  TenantNetwork net2(neutron, "local", "10.79.4.0/24", "10.79.4.1");
  NetNode node;
  node.StartDaemon();
  REQUIRE(node.harness->WaitServing());
  capsule::Capsule c = node.Capsule("twonets", "exec sleep 3600");
  node.Create(c, json::array({net1.Request(), net2.Request()}));
  INFO(node.Log());
  REQUIRE(PollUntil([&] { return node.Status(c.uuid()) == "Running"; },
                    absl::Seconds(120)));
  const json addresses = node.Column(c.uuid(), "addresses");
  INFO(addresses.dump());
  REQUIRE(addresses.size() == 2);
  auto vifs = cni::ParseCniMetadata(node.Column(c.uuid(), "cni_metadata"));
  REQUIRE(vifs.ok());
  CHECK(vifs->default_vif.id == PortOf(addresses, net1.id));
  REQUIRE(vifs->additional.count("eth1"));
  CHECK(vifs->additional.at("eth1").id == PortOf(addresses, net2.id));
  for (const auto& [ifname, net] :
       {std::pair{"eth0", &net1}, std::pair{"eth1", &net2}}) {
    const std::string ip = addresses[net->id][0]["addr"];
    CHECK(absl::StrContains(
        node.Exec(c.uuid(), absl::StrCat("ip -4 addr show ", ifname)),
        ip + "/24"));
    auto port = neutron->ShowPort(PortOf(addresses, net->id));
    REQUIRE(port.ok());
    CHECK((*port)["status"] == "ACTIVE");
  }
  // The default route is eth0's only.
  CHECK(absl::StrContains(node.Exec(c.uuid(), "ip route show default"),
                          "via 10.78.4.1 dev eth0"));
  REQUIRE(node.harness->CastDelete(c, true).ok());
  REQUIRE(PollUntil([&] { return !node.harness->CapsuleRow(c.uuid()); },
                    absl::Seconds(60)));
  CHECK(PortGone(neutron, PortOf(addresses, net1.id)));
  CHECK(PortGone(neutron, PortOf(addresses, net2.id)));
}

TEST_CASE("a killed zun-cni-daemon is survived between two creates") {
  TestNeutron neutron;
  TenantNetwork net(neutron, "flat", "10.78.5.0/24", "10.78.5.1");
  NetNode node;
  node.StartDaemon();
  REQUIRE(node.harness->WaitServing());
  capsule::Capsule first = node.Capsule("first", "exec sleep 3600");
  node.Create(first, json::array({net.Request()}));
  REQUIRE(PollUntil([&] { return node.Status(first.uuid()) == "Running"; },
                    absl::Seconds(120)));
  const std::string first_port =
      PortOf(node.Column(first.uuid(), "addresses"), net.id);

  // The next create reaches zun-cni while the daemon is down: the plugin
  // retries until the daemon's supervisor (here: the test) restarts it.
  node.KillDaemon();
  capsule::Capsule second = node.Capsule("second", "exec sleep 3600");
  node.Create(second, json::array({net.Request()}));
  node.StartDaemon();
  INFO(node.Log());
  REQUIRE(PollUntil([&] { return node.Status(second.uuid()) == "Running"; },
                    absl::Seconds(120)));
  // The restarted daemon unplugs what its predecessor plugged.
  REQUIRE(node.harness->CastDelete(first, true).ok());
  REQUIRE(PollUntil([&] { return !node.harness->CapsuleRow(first.uuid()); },
                    absl::Seconds(60)));
  CHECK_FALSE(Exists("/sys/class/net/" + cni::TapName(first_port)));
  CHECK(PortGone(neutron, first_port));
  CHECK(node.State(first.uuid()).is_null());
  REQUIRE(node.harness->CastDelete(second, true).ok());
  REQUIRE(PollUntil([&] { return !node.harness->CapsuleRow(second.uuid()); },
                    absl::Seconds(60)));
}

TEST_CASE("zun-capsule puts a capsule on its project's network") {
  TestNeutron neutron;
  TenantNetwork net(neutron, "flat", "10.78.6.0/24", "10.78.6.1");
  // The provider earlier agents of this host name registered is not this
  // node's (a fresh database): the agent would rightly refuse to take it.
  TestPlacement placement;
  REQUIRE(placement.RemoveProviders(OpenStackEnv::Get().neutron_host).ok());
  NetNode node;
  node.StartDaemon();
  REQUIRE(node.harness->WaitServing());
  // Placement must know the node before the scheduler can pick it.
  REQUIRE(PollUntil([&] {
    auto rps = placement->FindProviders(node.harness->host());
    // The node took over the provider an earlier agent of this host name
    // registered (adoption), and its compute_node row says so.
    auto cn = node.harness->db().Query(
        "SELECT rp_uuid FROM compute_node WHERE hostname = '" +
        node.harness->host() + "'");
    return rps.ok() && !rps->empty() && cn.size() == 1 &&
           cn[0].at("rp_uuid") == rps->front().uuid &&
           placement->GetInventories(rps->front().uuid)->inventories.size() ==
               3 &&
           !placement->GetTraits(rps->front().uuid)
                ->traits.count(openstack::kDisabledTrait);
  }));
  // No --net: as zun-api, the project's own (oldest) network.
  CommandResult r = ZunCapsule(
      node.harness->config_path(),
      {"--project", "test-project", "--json", "create", "-f",
       SampleTemplate("minimal.json"), "--host", node.harness->host()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string uuid = JsonOf(r.output)["uuid"];
  REQUIRE(PollUntil([&] { return node.Status(uuid) == "Running"; },
                    absl::Seconds(120)));
  const json addresses = node.Column(uuid, "addresses");
  REQUIRE(addresses.contains(net.id));
  CHECK(absl::StartsWith(addresses[net.id][0]["addr"].get<std::string>(),
                         "10.78.6."));
  // A port of another project is refused before anything is written.
  auto foreign = neutron->CreatePort(
      json{{"network_id", net.id}, {"tenant_id", "someone-else"}});
  REQUIRE(foreign.ok());
  CommandResult refused =
      ZunCapsule(node.harness->config_path(),
                 {"--project", "test-project", "create", "-f",
                  SampleTemplate("minimal.json"), "--net",
                  "port=" + (*foreign)["id"].get<std::string>()});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.output, Catch::Contains("another project"));
  REQUIRE(ZunCapsule(node.harness->config_path(), {"delete", uuid}).exit_code ==
          0);
  REQUIRE(PollUntil([&] { return !node.harness->CapsuleRow(uuid); },
                    absl::Seconds(60)));
}

}  // namespace
}  // namespace zun::testing
