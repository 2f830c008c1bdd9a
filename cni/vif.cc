// Translation of bound Neutron ports into VIFs (vif.h).
#include "cni/vif.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace zun::cni {

namespace {

using nlohmann::json;

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Bool(const json& o, const char* key, bool fallback = false) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

const json& Object(const json& o, const char* key) {
  static const json kEmpty = json::object();
  auto it = o.find(key);
  return it != o.end() && it->is_object() ? *it : kEmpty;
}

const json& Array(const json& o, const char* key) {
  static const json kEmpty = json::array();
  auto it = o.find(key);
  return it != o.end() && it->is_array() ? *it : kEmpty;
}

// The network part every translator shares: id, label, MTU, and one subnet
// per subnet of the port's fixed IPs, in the order they first appear.
absl::StatusOr<VifNetwork> NetworkOf(const json& port, const json& network,
                                     const std::vector<json>& subnets) {
  VifNetwork net;
  net.id = Str(network, "id");
  if (net.id.empty()) net.id = Str(port, "network_id");
  net.label = Str(network, "name");
  if (auto mtu = network.find("mtu");
      mtu != network.end() && mtu->is_number_integer()) {
    net.mtu = mtu->get<int>();
  }
  for (const json& ip : Array(port, "fixed_ips")) {
    if (!ip.is_object()) continue;
    const std::string subnet_id = Str(ip, "subnet_id");
    const std::string address = Str(ip, "ip_address");
    if (subnet_id.empty() || address.empty()) continue;
    auto known =
        std::find_if(subnets.begin(), subnets.end(),
                     [&](const json& s) { return Str(s, "id") == subnet_id; });
    if (known == subnets.end()) continue;
    auto have = std::find_if(
        net.subnets.begin(), net.subnets.end(),
        [&](const VifSubnet& s) { return s.cidr == Str(*known, "cidr"); });
    if (have != net.subnets.end()) {
      have->ips.push_back(address);
      continue;
    }
    VifSubnet s;
    s.cidr = Str(*known, "cidr");
    s.gateway = Str(*known, "gateway_ip");
    for (const json& d : Array(*known, "dns_nameservers")) {
      if (d.is_string()) s.dns.push_back(d.get<std::string>());
    }
    for (const json& r : Array(*known, "host_routes")) {
      if (!r.is_object()) continue;
      s.routes.push_back({Str(r, "destination"), Str(r, "nexthop")});
    }
    s.ips.push_back(address);
    net.subnets.push_back(std::move(s));
  }
  if (net.subnets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no valid subnets found for port ", Str(port, "id"),
                     " (its fixed IPs name no subnet that could be read)"));
  }
  return net;
}

}  // namespace

std::string TapName(const std::string& port_id) {
  return ("tap" + port_id).substr(0, 14);
}

std::string LinuxBridgeName(const std::string& network_id) {
  return ("brq" + network_id).substr(0, 14);
}

int PrefixLength(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  int n = -1;
  if (slash == std::string::npos ||
      !absl::SimpleAtoi(cidr.substr(slash + 1), &n)) {
    return -1;
  }
  const int max = IsIpv6(cidr) ? 128 : 32;
  return n >= 0 && n <= max ? n : -1;
}

bool IsIpv6(const std::string& address) {
  return address.find(':') != std::string::npos;
}

absl::StatusOr<Vif> TranslatePort(const json& port, const json& network,
                                  const std::vector<json>& subnets,
                                  const std::string& ovs_bridge) {
  if (!port.is_object()) {
    return absl::InvalidArgumentError("the port is not a JSON object");
  }
  Vif vif;
  vif.id = Str(port, "id");
  vif.address = Str(port, "mac_address");
  if (vif.id.empty() || vif.address.empty()) {
    return absl::InvalidArgumentError("the port has no id or MAC address");
  }
  const std::string type = Str(port, "binding:vif_type");
  if (type == "binding_failed") {
    return absl::FailedPreconditionError(absl::StrCat(
        "Neutron could not bind port ", vif.id, " to host '",
        Str(port, "binding:host_id"),
        "' (binding:vif_type binding_failed): no live L2 agent on that host "
        "serves the network's physical network or type"));
  }
  if (type != "bridge" && type != "ovs") {
    return absl::FailedPreconditionError(absl::StrCat(
        "port ", vif.id, " has binding:vif_type '",
        type.empty() ? "(none)" : type,
        "'; this node plugs only 'bridge' (Linux bridge) and 'ovs' ports"));
  }
  absl::StatusOr<VifNetwork> net = NetworkOf(port, network, subnets);
  if (!net.ok()) return net.status();
  vif.network = *std::move(net);
  const json& details = Object(port, "binding:vif_details");
  vif.has_traffic_filtering = Bool(details, "port_filter");
  vif.vif_name = TapName(vif.id);
  vif.active = Str(port, "status") == "ACTIVE";
  // As upstream: the VIF never carries the request's preserve_on_delete
  // (that lives in `addresses`).
  vif.preserve_on_delete = false;
  const std::string named_bridge = Str(details, "bridge_name");
  if (type == "bridge") {
    vif.vif_class = VifClass::kBridge;
    vif.plugin = "linux_bridge";
    vif.bridge_name =
        named_bridge.empty() ? LinuxBridgeName(vif.network.id) : named_bridge;
    vif.network.bridge = vif.bridge_name;
    return vif;
  }
  vif.plugin = "ovs";
  vif.ovs_interface_id = vif.id;
  vif.network.bridge = named_bridge.empty() ? ovs_bridge : named_bridge;
  if (Bool(details, "ovs_hybrid_plug")) {
    vif.vif_class = VifClass::kBridge;
    vif.bridge_name = ("qbr" + vif.id).substr(0, 14);
  } else {
    vif.vif_class = VifClass::kOpenVSwitch;
    vif.bridge_name = vif.network.bridge;
  }
  return vif;
}

}  // namespace zun::cni
