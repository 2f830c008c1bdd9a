// The VIF translation of each binding:vif_type, and the os-vif primitives
// of cni_metadata (cni/vif.h).
#include "cni/vif.h"

#include "catch2/catch.hpp"

namespace zun::cni {
namespace {

using nlohmann::json;

const char kPort[] = "9b2c7e11-0a1b-4c2d-8e3f-001122334455";
const char kNet[] = "4e8f1d2c-aaaa-bbbb-cccc-ddddeeeeffff";

json Port(const std::string& vif_type, json details = json::object()) {
  return json{
      {"id", kPort},
      {"network_id", kNet},
      {"mac_address", "fa:16:3e:12:34:56"},
      {"status", "DOWN"},
      {"binding:host_id", "node1"},
      {"binding:vif_type", vif_type},
      {"binding:vif_details", details},
      {"fixed_ips",
       json::array({json{{"subnet_id", "s4"}, {"ip_address", "10.0.0.5"}},
                    json{{"subnet_id", "s6"}, {"ip_address", "fd00::5"}}})}};
}

json Network() { return json{{"id", kNet}, {"name", "capnet"}, {"mtu", 1450}}; }

std::vector<json> Subnets() {
  return {json{{"id", "s4"},
               {"cidr", "10.0.0.0/26"},
               {"gateway_ip", "10.0.0.1"},
               {"dns_nameservers", json::array({"10.0.0.53"})},
               {"host_routes", json::array({json{{"destination", "10.1.0.0/24"},
                                                 {"nexthop", "10.0.0.254"}}})}},
          json{{"id", "s6"},
               {"cidr", "fd00::/64"},
               {"gateway_ip", nullptr},
               {"dns_nameservers", json::array()},
               {"host_routes", json::array()}}};
}

TEST_CASE("a Linux-bridge port becomes a VIFBridge on brq<net[:11]>", "[cni]") {
  absl::StatusOr<Vif> v = TranslatePort(
      Port("bridge", {{"connectivity", "l2"}, {"port_filter", true}}),
      Network(), Subnets());
  REQUIRE(v.ok());
  CHECK(v->vif_class == VifClass::kBridge);
  CHECK(v->plugin == "linux_bridge");
  CHECK(v->vif_name == "tap9b2c7e11-0a");
  CHECK(v->vif_name.size() == 14);
  CHECK(v->bridge_name == "brq4e8f1d2c-aa");
  CHECK(v->network.bridge == v->bridge_name);
  CHECK(v->has_traffic_filtering);
  CHECK_FALSE(v->active);
  CHECK_FALSE(v->ovs_interface_id);
  CHECK(v->network.mtu == 1450);
  CHECK(v->network.label == "capnet");
  REQUIRE(v->network.subnets.size() == 2);
  CHECK(v->network.subnets[0].cidr == "10.0.0.0/26");
  CHECK(v->network.subnets[0].gateway == "10.0.0.1");
  CHECK(v->network.subnets[0].ips == std::vector<std::string>{"10.0.0.5"});
  CHECK(v->network.subnets[0].dns == std::vector<std::string>{"10.0.0.53"});
  REQUIRE(v->network.subnets[0].routes.size() == 1);
  CHECK(v->network.subnets[0].routes[0].gateway == "10.0.0.254");
  CHECK(v->network.subnets[1].gateway.empty());  // null gateway_ip
}

TEST_CASE("vif_details.bridge_name wins over the brq name", "[cni]") {
  absl::StatusOr<Vif> v = TranslatePort(
      Port("bridge", {{"bridge_name", "br-custom"}}), Network(), Subnets());
  REQUIRE(v.ok());
  CHECK(v->bridge_name == "br-custom");
}

TEST_CASE("an OVS port becomes a VIFOpenVSwitch on br-int", "[cni]") {
  absl::StatusOr<Vif> v = TranslatePort(Port("ovs"), Network(), Subnets());
  REQUIRE(v.ok());
  CHECK(v->vif_class == VifClass::kOpenVSwitch);
  CHECK(v->plugin == "ovs");
  CHECK(v->bridge_name == "br-int");
  CHECK(v->network.bridge == "br-int");
  REQUIRE(v->ovs_interface_id);
  CHECK(*v->ovs_interface_id == kPort);
  absl::StatusOr<Vif> other =
      TranslatePort(Port("ovs"), Network(), Subnets(), "br-tenant");
  REQUIRE(other.ok());
  CHECK(other->bridge_name == "br-tenant");
}

TEST_CASE("a hybrid OVS port becomes a VIFBridge on qbr<port>", "[cni]") {
  absl::StatusOr<Vif> v = TranslatePort(
      Port("ovs", {{"ovs_hybrid_plug", true}}), Network(), Subnets());
  REQUIRE(v.ok());
  CHECK(v->vif_class == VifClass::kBridge);
  CHECK(v->plugin == "ovs");
  CHECK(v->bridge_name == "qbr9b2c7e11-0a");
  CHECK(v->network.bridge == "br-int");
}

TEST_CASE("ports that are not bound give a clear reason", "[cni]") {
  absl::StatusOr<Vif> failed =
      TranslatePort(Port("binding_failed"), Network(), Subnets());
  REQUIRE(failed.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(failed.status().message()),
             Catch::Contains("binding_failed") && Catch::Contains("node1") &&
                 Catch::Contains("L2 agent"));
  for (const char* type : {"unbound", "vhostuser", ""}) {
    absl::StatusOr<Vif> v = TranslatePort(Port(type), Network(), Subnets());
    CHECK(v.status().code() == absl::StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("a port without a readable subnet is refused", "[cni]") {
  CHECK(TranslatePort(Port("bridge"), Network(), {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  json no_mac = Port("bridge");
  no_mac.erase("mac_address");
  CHECK(TranslatePort(no_mac, Network(), Subnets()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("cni_metadata has upstream's VIFState nesting", "[cni]") {
  absl::StatusOr<Vif> v = TranslatePort(Port("bridge"), Network(), Subnets());
  REQUIRE(v.ok());
  const json m = CniMetadata(CapsuleVifs{*v, {}});
  const json& state = m.at("vif");
  CHECK(state.at("versioned_object.name") == "VIFState");
  CHECK(state.at("versioned_object.namespace") == "os_vif");
  CHECK(state.at("versioned_object.version") == "1.0");
  CHECK_FALSE(state.at("versioned_object.data").contains("additional_vifs"));
  const json& vif = state.at("versioned_object.data").at("default_vif");
  CHECK(vif.at("versioned_object.name") == "VIFBridge");
  CHECK(vif.at("versioned_object.namespace") == "os_vif");
  const json& data = vif.at("versioned_object.data");
  CHECK(data.at("vif_name") == "tap9b2c7e11-0a");
  CHECK(data.at("preserve_on_delete") == false);
  const json& net = data.at("network");
  CHECK(net.at("versioned_object.name") == "Network");
  CHECK(net.at("versioned_object.version") == "1.1");
  CHECK(net.at("versioned_object.data").at("should_provide_bridge") == false);
  const json& subnets = net.at("versioned_object.data").at("subnets");
  CHECK(subnets.at("versioned_object.name") == "SubnetList");
  const json& s0 = subnets.at("versioned_object.data").at("objects").at(0);
  CHECK(s0.at("versioned_object.name") == "Subnet");
  CHECK(s0.at("versioned_object.data")
            .at("ips")
            .at("versioned_object.data")
            .at("objects")
            .at(0)
            .at("versioned_object.data")
            .at("address") == "10.0.0.5");
  const json& s1 = subnets.at("versioned_object.data").at("objects").at(1);
  CHECK_FALSE(s1.at("versioned_object.data").contains("gateway"));
}

TEST_CASE("cni_metadata round-trips, additional VIFs included", "[cni]") {
  absl::StatusOr<Vif> a = TranslatePort(Port("bridge"), Network(), Subnets());
  absl::StatusOr<Vif> b =
      TranslatePort(Port("ovs", {{"port_filter", true}}), Network(), Subnets());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const json m = CniMetadata(CapsuleVifs{*a, {{"eth1", *b}}});
  // Stored as a JSON string (Zun's JsonField): both forms are read.
  for (const json& stored : {m, json(m.dump())}) {
    absl::StatusOr<CapsuleVifs> back = ParseCniMetadata(stored);
    REQUIRE(back.ok());
    CHECK(back->default_vif.id == kPort);
    CHECK(back->default_vif.bridge_name == a->bridge_name);
    CHECK(back->default_vif.network.subnets.size() == 2);
    CHECK(back->default_vif.network.subnets[0].routes.size() == 1);
    REQUIRE(back->additional.count("eth1"));
    CHECK(back->additional.at("eth1").vif_class == VifClass::kOpenVSwitch);
    CHECK(back->additional.at("eth1").ovs_interface_id == b->ovs_interface_id);
  }
}

TEST_CASE("cni_metadata readers tolerate absent and unknown fields", "[cni]") {
  const json upstream = json::parse(R"({"vif": {
    "versioned_object.name": "VIFState", "versioned_object.namespace": "os_vif",
    "versioned_object.version": "1.0", "versioned_object.data": {"default_vif": {
      "versioned_object.name": "VIFOpenVSwitch",
      "versioned_object.namespace": "os_vif", "versioned_object.version": "1.0",
      "versioned_object.data": {"id": "p1", "address": "fa:16:3e:00:00:01",
        "future_field": {"x": 1},
        "network": {"versioned_object.name": "Network",
          "versioned_object.data": {"id": "n1", "bridge": "br-int"}}}}}}})");
  absl::StatusOr<CapsuleVifs> v = ParseCniMetadata(upstream);
  REQUIRE(v.ok());
  CHECK(v->default_vif.vif_name == "tapp1");
  CHECK(v->default_vif.network.subnets.empty());
  CHECK(ParseCniMetadata(json()).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(ParseCniMetadata(json::object()).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(ParseCniMetadata(json("{not json")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ParseCniMetadata(json{{"vif", 3}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("prefix lengths and address families", "[cni]") {
  CHECK(PrefixLength("10.0.0.0/26") == 26);
  CHECK(PrefixLength("fd00::/64") == 64);
  CHECK(PrefixLength("10.0.0.0/33") == -1);
  CHECK(PrefixLength("10.0.0.0") == -1);
  CHECK(IsIpv6("fd00::5"));
  CHECK_FALSE(IsIpv6("10.0.0.5"));
}

}  // namespace
}  // namespace zun::cni
