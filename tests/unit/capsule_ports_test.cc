// PortBinder (agent/capsule_ports.h) against an in-memory Neutron: what a
// capsule's ports look like, retries and recreates reuse them, failures
// and deletes leave none of ours behind, a user's port is only unbound.
#include "agent/capsule_ports.h"

#include "catch2/catch.hpp"
#include "cni/vif.h"
#include "openstack/fake_neutron.h"

namespace zun::agent {
namespace {

using nlohmann::json;

const char kCapsule[] = "c0ffee00-1111-2222-3333-444455556666";

struct Fixture {
  Fixture() {
    neutron.AddL2Host("node1");
    net1 = neutron.AddNetwork("one", "10.1.0");
    net2 = neutron.AddNetwork("two", "10.2.0");
  }
  std::vector<json> PortsOf(const std::string& uuid) {
    auto p = neutron.ListPorts({{"device_id", uuid}});
    REQUIRE(p.ok());
    return *p;
  }
  openstack::FakeNeutron neutron;
  PortBinder binder{neutron, PortOptions{"node1", "br-int"}};
  std::string net1, net2;
};

TEST_CASE("a port per requested network, bound here, recorded as upstream",
          "[ports]") {
  Fixture f;
  auto r =
      f.binder.Bind(kCapsule, "proj",
                    {{f.net1, "", "", false}, {f.net2, "", "10.2.0.99", false}},
                    nullptr, nullptr);
  REQUIRE(r.ok());
  std::vector<json> ports = f.PortsOf(kCapsule);
  REQUIRE(ports.size() == 2);
  for (const json& p : ports) {
    CHECK(p["device_owner"] == "compute:zun");
    CHECK(p["binding:host_id"] == "node1");
    CHECK(p["tenant_id"] == "proj");
    CHECK(p["name"] == PortBinder::PortName(kCapsule));
  }
  const json& a1 = r->addresses[f.net1][0];
  CHECK(a1["version"] == 4);
  CHECK(a1["subnet_id"] == f.neutron.SubnetOf(f.net1));
  CHECK(a1["preserve_on_delete"] == false);
  CHECK(r->addresses[f.net2][0]["addr"] == "10.2.0.99");
  auto vifs = cni::ParseCniMetadata(r->cni_metadata);
  REQUIRE(vifs.ok());
  CHECK(vifs->default_vif.id == a1["port"]);
  CHECK(vifs->default_vif.plugin == "linux_bridge");
  REQUIRE(vifs->additional.count("eth1"));
  CHECK(vifs->additional.at("eth1").id == r->addresses[f.net2][0]["port"]);
}

TEST_CASE("a redelivered create and a recreate reuse the capsule's ports",
          "[ports]") {
  Fixture f;
  auto first = f.binder.Bind(kCapsule, "proj", {{f.net1, "", "", false}},
                             nullptr, nullptr);
  REQUIRE(first.ok());
  // Redelivered before anything was recorded: found by device_id.
  auto again = f.binder.Bind(kCapsule, "proj", {{f.net1, "", "", false}},
                             nullptr, nullptr);
  REQUIRE(again.ok());
  CHECK(f.neutron.calls("CreatePort") == 1);
  CHECK(again->addresses == first->addresses);
  // A recreate: the recorded ports win over the request.
  auto recreated = f.binder.Bind(kCapsule, "proj", {{f.net2, "", "", false}},
                                 first->addresses, first->cni_metadata);
  REQUIRE(recreated.ok());
  CHECK(f.neutron.calls("CreatePort") == 1);
  CHECK(recreated->addresses == first->addresses);
}

TEST_CASE("a port that cannot bind fails the bind and is removed", "[ports]") {
  Fixture f;
  PortBinder elsewhere(f.neutron, PortOptions{"node-without-agent", "br-int"});
  auto r = elsewhere.Bind(kCapsule, "proj", {{f.net1, "", "", false}}, nullptr,
                          nullptr);
  REQUIRE(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(r.status().message()),
             Catch::Contains("binding_failed") &&
                 Catch::Contains("node-without-agent"));
  CHECK(f.PortsOf(kCapsule).empty());
}

TEST_CASE("a failure on the second network rolls back the first", "[ports]") {
  Fixture f;
  auto r =
      f.binder.Bind(kCapsule, "proj",
                    {{f.net1, "", "", false}, {"no-such-net", "", "", false}},
                    nullptr, nullptr);
  REQUIRE(r.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("no-such-net"));
  CHECK(f.neutron.calls("CreatePort") == 2);
  CHECK(f.PortsOf(kCapsule).empty());
  // Neutron unreachable while reading the network: nothing stays either.
  f.neutron.FailNext("ShowSubnet", absl::UnavailableError("Neutron down"));
  r = f.binder.Bind(kCapsule, "proj", {{f.net1, "", "", false}}, nullptr,
                    nullptr);
  REQUIRE(r.status().code() == absl::StatusCode::kUnavailable);
  CHECK(f.PortsOf(kCapsule).empty());
}

TEST_CASE("a user's port is adopted, then unbound, never deleted", "[ports]") {
  Fixture f;
  auto mine = f.neutron.CreatePort(json{{"network_id", f.net1}});
  REQUIRE(mine.ok());
  const std::string id = (*mine)["id"];
  auto r = f.binder.Bind(kCapsule, "proj", {{f.net1, id, "", true}}, nullptr,
                         nullptr);
  REQUIRE(r.ok());
  CHECK(r->addresses[f.net1][0]["preserve_on_delete"] == true);
  auto bound = f.neutron.ShowPort(id);
  CHECK((*bound)["device_id"] == kCapsule);
  CHECK((*bound)["binding:vif_type"] == "bridge");
  REQUIRE(f.binder.Release(kCapsule, r->addresses).ok());
  auto after = f.neutron.ShowPort(id);
  REQUIRE(after.ok());
  CHECK((*after)["device_id"] == "");
  CHECK((*after)["device_owner"] == "");
  CHECK((*after)["binding:host_id"] == "");
  // Idempotent: a second release finds nothing to do.
  CHECK(f.binder.Release(kCapsule, r->addresses).ok());
  CHECK(f.neutron.ShowPort(id).ok());
}

TEST_CASE("a port bound to another device is refused", "[ports]") {
  Fixture f;
  auto taken = f.neutron.CreatePort(
      json{{"network_id", f.net1}, {"device_id", "someone-else"}});
  REQUIRE(taken.ok());
  auto r = f.binder.Bind(kCapsule, "proj", {{f.net1, (*taken)["id"], "", true}},
                         nullptr, nullptr);
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK((*f.neutron.ShowPort((*taken)["id"]))["device_id"] == "someone-else");
}

TEST_CASE("release without a record finds the capsule's ports by device",
          "[ports]") {
  Fixture f;
  auto ours = f.binder.Bind(kCapsule, "proj", {{f.net1, "", "", false}},
                            nullptr, nullptr);
  REQUIRE(ours.ok());
  auto user = f.neutron.CreatePort(json{{"network_id", f.net2}});
  REQUIRE(f.neutron
              .UpdatePort((*user)["id"], json{{"device_id", kCapsule},
                                              {"binding:host_id", "node1"}})
              .ok());
  // A crash left no `addresses`: ours are deleted, the user's unbound.
  REQUIRE(f.binder.Release(kCapsule, nullptr).ok());
  CHECK(f.PortsOf(kCapsule).empty());
  CHECK(f.neutron.ShowPort((*user)["id"]).ok());
  f.neutron.FailNext("ListPorts", absl::UnavailableError("Neutron down"));
  CHECK(f.binder.Release(kCapsule, nullptr).code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("requested_networks are read as zun-api sends them", "[ports]") {
  const json list = json::parse(R"([
    {"network": "n1", "port": "", "router:external": false, "shared": false,
     "fixed_ip": "", "preserve_on_delete": false},
    {"network": "n2", "port": "p2", "fixed_ip": "", "preserve_on_delete": true},
    {"router:external": false}, 7])");
  std::vector<RequestedNetwork> r = ParseRequestedNetworks(list);
  REQUIRE(r.size() == 2);
  CHECK(r[0].network == "n1");
  CHECK_FALSE(r[0].preserve_on_delete);
  CHECK(r[1].port == "p2");
  CHECK(r[1].preserve_on_delete);
  CHECK(ParseRequestedNetworks(json("x")).empty());
}

}  // namespace
}  // namespace zun::agent
