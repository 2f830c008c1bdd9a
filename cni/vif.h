// File: vif.h
// The VIF model shared by the agent (which writes it into a capsule's
// `cni_metadata`), zun-cni-daemon (which reads it and plugs it) and zun-cni
// (which turns the daemon's answer into a CNI result): upstream Zun's
// os-vif objects, reduced to the fields the capsule path uses.
//
//  - TranslatePort builds the VIF of a bound Neutron port from the port, its
//    network and the subnets of its fixed IPs, per `binding:vif_type`:
//    "bridge" (ML2/linuxbridge: VIFBridge, plugin linux_bridge, bridge
//    brq<net[:11]> unless vif_details names one) and "ovs" (VIFOpenVSwitch,
//    or VIFBridge with plugin ovs when vif_details.ovs_hybrid_plug), as
//    upstream's translator does. "binding_failed" gives FAILED_PRECONDITION
//    saying that no L2 agent on the host could bind the port; "unbound" and
//    any other type give FAILED_PRECONDITION naming the type.
//  - VifToPrimitive / VifFromPrimitive convert to and from the
//    oslo.versionedobjects primitive (namespace os_vif) upstream's daemon
//    and plugin exchange; the reader ignores unknown fields and tolerates
//    absent optional ones.
//  - CniMetadata wraps the VIFs in Zun's VIFState ({"vif": <VIFState>}):
//    default_vif is the capsule's first requested network (eth0),
//    additional_vifs maps eth1, eth2, ... to the others.
//
// Plain values and pure functions: thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace zun::cni {

struct VifRoute {
  std::string cidr;     // destination, e.g. "10.1.0.0/24"
  std::string gateway;  // next hop
};

struct VifSubnet {
  std::string cidr;              // "10.0.0.0/26" or an IPv6 prefix
  std::string gateway;           // "" when the subnet has none
  std::vector<std::string> dns;  // dns_nameservers
  std::vector<std::string> ips;  // the port's addresses on this subnet
  std::vector<VifRoute> routes;  // host_routes
};

struct VifNetwork {
  std::string id;
  std::string label;   // the network's name; "" when null
  int mtu = 0;         // 0: not set (pluggers use 1500)
  std::string bridge;  // the bridge the VIF attaches to
  bool multi_host = false;
  bool should_provide_bridge = false;
  bool should_provide_vlan = false;
  std::vector<VifSubnet> subnets;
};

enum class VifClass { kBridge, kOpenVSwitch };

struct Vif {
  VifClass vif_class = VifClass::kBridge;  // VIFBridge / VIFOpenVSwitch
  std::string id;                          // the Neutron port id
  std::string address;                     // the port's MAC
  std::string vif_name;                    // host end: "tap" + id[:11]
  std::string bridge_name;
  std::string plugin;  // "linux_bridge" or "ovs" (os-vif plugin)
  bool active = false;
  bool preserve_on_delete = false;
  bool has_traffic_filtering = false;
  // VIFPortProfileOpenVSwitch.interface_id (ovs ports only).
  std::optional<std::string> ovs_interface_id;
  VifNetwork network;
};

// The VIFs of one capsule: eth0 plus the extra interfaces, by name.
struct CapsuleVifs {
  Vif default_vif;
  std::map<std::string, Vif> additional;  // "eth1" -> Vif, ...
};

// "tap" + the first 11 characters of the port id (Linux names are at most
// 15 bytes; os-vif and Neutron's linuxbridge agent use the same rule).
std::string TapName(const std::string& port_id);
// "brq" + the first 11 characters of the network id (Neutron's
// linuxbridge agent's bridge of that network).
std::string LinuxBridgeName(const std::string& network_id);

// The VIF of `port` (a Neutron port object), with `network` (its network)
// and `subnets` (the subnet objects of its fixed IPs, any order).
// `ovs_bridge` is [neutron] ovs_bridge (default br-int). Errors as above;
// INVALID_ARGUMENT when the port lacks an id, MAC or usable subnet.
absl::StatusOr<Vif> TranslatePort(const nlohmann::json& port,
                                  const nlohmann::json& network,
                                  const std::vector<nlohmann::json>& subnets,
                                  const std::string& ovs_bridge = "br-int");

nlohmann::json VifToPrimitive(const Vif& vif);
// INVALID_ARGUMENT when `primitive` is not a VIFBridge / VIFOpenVSwitch
// primitive or lacks id or address.
absl::StatusOr<Vif> VifFromPrimitive(const nlohmann::json& primitive);

// {"vif": <VIFState primitive>} as upstream writes the column (a JSON
// object; the caller stores its dump as the JsonField string).
nlohmann::json CniMetadata(const CapsuleVifs& vifs);
// The VIFs of a `cni_metadata` value (the object, or its JSON text).
// NOT_FOUND when it has no "vif" (nothing to plug); INVALID_ARGUMENT when
// it cannot be read.
absl::StatusOr<CapsuleVifs> ParseCniMetadata(const nlohmann::json& metadata);

// The prefix length of `cidr` ("10.0.0.0/26" -> 26); -1 when malformed.
int PrefixLength(const std::string& cidr);
// Whether `address` is IPv6 (contains ':').
bool IsIpv6(const std::string& address);

}  // namespace zun::cni
