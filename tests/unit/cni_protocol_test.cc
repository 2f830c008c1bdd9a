// The zun-cni wire shapes (cni/cni_protocol.h): CNI_ARGS, versions, the ADD
// result of every cniVersion we claim, error objects, the daemon's request
// body and ADD answer.
#include "cni/cni_protocol.h"

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"

namespace zun::cni {
namespace {

using nlohmann::json;

VifSubnet V4Subnet() {
  VifSubnet s;
  s.cidr = "10.0.0.0/26";
  s.gateway = "10.0.0.1";
  s.dns = {"10.0.0.53"};
  s.ips = {"10.0.0.5", "10.0.0.6"};
  s.routes = {{"10.1.0.0/24", "10.0.0.254"}};
  return s;
}

VifSubnet V6Subnet() {
  VifSubnet s;
  s.cidr = "fd00:1::/64";
  s.gateway = "fd00:1::1";
  s.dns = {"fd00:1::53", "10.0.0.53"};
  s.ips = {"fd00:1::5"};
  return s;
}

Vif MakeVif(const std::string& port_id, const std::string& mac,
            std::vector<VifSubnet> subnets) {
  Vif v;
  v.id = port_id;
  v.address = mac;
  v.vif_name = TapName(port_id);
  v.plugin = "linux_bridge";
  v.bridge_name = "brqnet-1";
  v.network.id = "net-1";
  v.network.bridge = "brqnet-1";
  v.network.subnets = std::move(subnets);
  return v;
}

constexpr char kNetns[] = "/var/run/netns/cni-1234";

TEST_CASE("CNI_ARGS are split into pairs, each at its first equals sign",
          "[cni]") {
  auto args = ParseCniArgs(
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=abc;;"
      "_private=x;EXTRA=a=b");
  REQUIRE(args.ok());
  CHECK(*args ==
        std::map<std::string, std::string>{{"IgnoreUnknown", "1"},
                                           {"K8S_POD_NAMESPACE", "default"},
                                           {"K8S_POD_NAME", "abc"},
                                           {"EXTRA", "a=b"}});
  CHECK(ParseCniArgs("")->empty());
  auto bad = ParseCniArgs("K8S_POD_NAME=abc;garbage");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("garbage") !=
        std::string::npos);
}

TEST_CASE("CNI versions: the four we speak, compared numerically", "[cni]") {
  CHECK(SupportedCniVersions() ==
        std::vector<std::string>{"0.3.0", "0.3.1", "0.4.0", "1.0.0"});
  CHECK(IsSupportedCniVersion("0.4.0"));
  CHECK_FALSE(IsSupportedCniVersion("0.2.0"));
  CHECK_FALSE(IsSupportedCniVersion("1.1.0"));
  CHECK(CniVersionAtLeast("0.4.0", "0.4.0"));
  CHECK(CniVersionAtLeast("1.0.0", "0.4.0"));
  CHECK(CniVersionAtLeast("0.10.0", "0.4.0"));
  CHECK_FALSE(CniVersionAtLeast("0.3.1", "0.4.0"));
  CHECK(VersionResponse("0.3.1") ==
        json{{"cniVersion", "0.3.1"},
             {"supportedVersions", {"0.3.0", "0.3.1", "0.4.0", "1.0.0"}}});
  CHECK(VersionResponse("")["cniVersion"] == "1.0.0");
}

TEST_CASE("ADD result for every cniVersion we claim", "[cni]") {
  const std::string version = GENERATE("0.3.0", "0.3.1", "0.4.0", "1.0.0");
  const bool pre_1_0 = version != "1.0.0";
  auto result = BuildAddResult(
      version, {{"eth0", MakeVif("port-1", "fa:16:3e:00:00:01", {V4Subnet()})}},
      kNetns);
  REQUIRE(result.ok());
  const json& r = *result;
  CHECK(r["cniVersion"] == version);
  CHECK(r["interfaces"] == json::parse(R"([{"name": "eth0",
      "mac": "fa:16:3e:00:00:01", "sandbox": "/var/run/netns/cni-1234"}])"));
  // Every IP of the subnet, not only the first.
  json ips = json::parse(R"([
      {"address": "10.0.0.5/26", "gateway": "10.0.0.1", "interface": 0},
      {"address": "10.0.0.6/26", "gateway": "10.0.0.1", "interface": 0}])");
  if (pre_1_0) {
    for (json& ip : ips) ip["version"] = "4";
  }
  CHECK(r["ips"] == ips);
  CHECK(r["routes"] == json::parse(R"([{"dst": "10.1.0.0/24",
      "gw": "10.0.0.254"}, {"dst": "0.0.0.0/0", "gw": "10.0.0.1"}])"));
  CHECK(r["dns"] == json{{"nameservers", {"10.0.0.53"}}});
  CHECK(r.size() == 5);
}

TEST_CASE("ADD result: two VIFs, default route only via eth0", "[cni]") {
  VifSubnet second = V4Subnet();
  second.cidr = "192.168.7.0/24";
  second.gateway = "192.168.7.1";
  second.ips = {"192.168.7.9"};
  second.routes = {{"172.16.0.0/12", "192.168.7.254"}};
  auto result = BuildAddResult(
      "0.3.1",
      {{"eth0", MakeVif("port-1", "fa:16:3e:00:00:01", {V4Subnet()})},
       {"eth1", MakeVif("port-2", "fa:16:3e:00:00:02", {second})}},
      kNetns);
  REQUIRE(result.ok());
  const json& r = *result;
  REQUIRE(r["interfaces"].size() == 2);
  CHECK(r["interfaces"][1]["name"] == "eth1");
  CHECK(r["interfaces"][1]["mac"] == "fa:16:3e:00:00:02");
  REQUIRE(r["ips"].size() == 3);
  CHECK(r["ips"][2] == json{{"address", "192.168.7.9/24"},
                            {"gateway", "192.168.7.1"},
                            {"interface", 1},
                            {"version", "4"}});
  int defaults = 0;
  for (const json& route : r["routes"]) {
    if (route["dst"] == "0.0.0.0/0") {
      ++defaults;
      CHECK(route["gw"] == "10.0.0.1");
    }
  }
  CHECK(defaults == 1);
  CHECK(r["routes"].size() == 3);  // two host routes + eth0's default
  // Nameservers deduplicated over both VIFs.
  CHECK(r["dns"]["nameservers"] == json{"10.0.0.53"});
}

TEST_CASE("ADD result: IPv6 and dual stack", "[cni]") {
  const std::string version = GENERATE("0.3.1", "1.0.0");
  auto result = BuildAddResult(version,
                               {{"eth0", MakeVif("port-1", "fa:16:3e:00:00:01",
                                                 {V4Subnet(), V6Subnet()})}},
                               kNetns);
  REQUIRE(result.ok());
  const json& r = *result;
  REQUIRE(r["ips"].size() == 3);
  const json& v6 = r["ips"][2];
  CHECK(v6["address"] == "fd00:1::5/64");
  CHECK(v6["gateway"] == "fd00:1::1");
  CHECK(v6.contains("version") == (version != "1.0.0"));
  if (version != "1.0.0") CHECK(v6["version"] == "6");
  CHECK(r["routes"].back() == json{{"dst", "::/0"}, {"gw", "fd00:1::1"}});
  CHECK(r["dns"]["nameservers"] ==
        json{"10.0.0.53", "fd00:1::53"});  // deduplicated, in order

  // A gateway of the other family is not the IP's gateway; a subnet
  // without gateway gives no default route; no nameservers: no "dns".
  VifSubnet odd = V6Subnet();
  odd.gateway = "10.9.9.1";
  odd.dns.clear();
  VifSubnet no_gw = V4Subnet();
  no_gw.gateway.clear();
  no_gw.dns.clear();
  no_gw.routes.clear();
  auto other = BuildAddResult(
      version, {{"eth0", MakeVif("port-1", "fa:16:3e:00:00:01", {odd})}},
      kNetns);
  REQUIRE(other.ok());
  CHECK_FALSE((*other)["ips"][0].contains("gateway"));
  CHECK_FALSE(other->contains("dns"));
  auto plain = BuildAddResult(
      version, {{"eth0", MakeVif("port-1", "fa:16:3e:00:00:01", {no_gw})}},
      kNetns);
  REQUIRE(plain.ok());
  CHECK((*plain)["routes"] == json::array());
  CHECK_FALSE((*plain)["ips"][0].contains("gateway"));
}

TEST_CASE("ADD result refuses unknown versions and bad cidrs", "[cni]") {
  const std::vector<NamedVif> vifs = {
      {"eth0", MakeVif("port-1", "fa:16:3e:00:00:01", {V4Subnet()})}};
  CHECK(BuildAddResult("0.2.0", vifs, kNetns).status().code() ==
        absl::StatusCode::kInvalidArgument);
  VifSubnet bad = V4Subnet();
  bad.cidr = "10.0.0.0";
  CHECK(BuildAddResult("1.0.0",
                       {{"eth0", MakeVif("p", "fa:16:3e:00:00:01", {bad})}},
                       kNetns)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Error objects and the daemon request body", "[cni]") {
  CHECK(ErrorJson("0.3.1", {11, "try again later", "refused"}) ==
        json{{"cniVersion", "0.3.1"},
             {"code", 11},
             {"msg", "try again later"},
             {"details", "refused"}});
  const json config = {{"cniVersion", "0.3.1"}, {"name", "zun"}};
  const json body = DaemonRequestBody(
      {{"CNI_COMMAND", "ADD"}, {"CNI_ARGS", "K8S_POD_NAME=x"}, {"PATH", "/b"}},
      config);
  CHECK(body == json{{"CNI_COMMAND", "ADD"},
                     {"CNI_ARGS", "K8S_POD_NAME=x"},
                     {"config_zun", config}});
}

TEST_CASE("The daemon's ADD answer and failure reasons", "[cni]") {
  const Vif eth0 = MakeVif("port-1", "fa:16:3e:00:00:01", {V4Subnet()});
  json answer = VifToPrimitive(eth0);
  answer["zun_additional_vifs"] = {
      {"eth10", VifToPrimitive(MakeVif("port-10", "fa:16:3e:00:00:10", {}))},
      {"eth2", VifToPrimitive(MakeVif("port-2", "fa:16:3e:00:00:02", {}))}};
  auto vifs = ParseAddAnswer(answer.dump(), "eth0");
  REQUIRE(vifs.ok());
  REQUIRE(vifs->size() == 3);
  CHECK((*vifs)[0].ifname == "eth0");
  CHECK((*vifs)[0].vif.address == "fa:16:3e:00:00:01");
  CHECK((*vifs)[0].vif.network.subnets.size() == 1);
  CHECK((*vifs)[1].ifname == "eth2");
  CHECK((*vifs)[2].ifname == "eth10");
  CHECK((*vifs)[2].vif.id == "port-10");

  auto upstream = ParseAddAnswer(VifToPrimitive(eth0).dump(), "eth0");
  REQUIRE(upstream.ok());
  CHECK(upstream->size() == 1);

  CHECK_FALSE(ParseAddAnswer("", "eth0").ok());
  CHECK_FALSE(ParseAddAnswer("[1]", "eth0").ok());
  CHECK_FALSE(ParseAddAnswer("{\"reason\": \"x\"}", "eth0").ok());
  json bad = VifToPrimitive(eth0);
  bad["zun_additional_vifs"] = "eth1";
  CHECK_FALSE(ParseAddAnswer(bad.dump(), "eth0").ok());

  CHECK(DaemonReason(R"({"reason": "capsule not found"})") ==
        "capsule not found");
  CHECK(DaemonReason("").empty());
  CHECK(DaemonReason(R"({"reason": 5})").empty());
  CHECK(DaemonReason("<html>").empty());
}

}  // namespace
}  // namespace zun::cni
