// The os-vif object primitives of VIFs and Zun's VIFState (vif.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "cni/vif.h"

namespace zun::cni {

namespace {

using nlohmann::json;

constexpr char kName[] = "versioned_object.name";
constexpr char kNamespace[] = "versioned_object.namespace";
constexpr char kVersion[] = "versioned_object.version";
constexpr char kData[] = "versioned_object.data";
constexpr char kChanges[] = "versioned_object.changes";

// An os_vif object primitive; `changes` lists every field set, as
// oslo.versionedobjects does for a freshly built object.
json Object(const char* name, const char* version, json data) {
  json changes = json::array();
  for (auto it = data.begin(); it != data.end(); ++it)
    changes.push_back(it.key());
  return json{{kName, name},
              {kNamespace, "os_vif"},
              {kVersion, version},
              {kData, std::move(data)},
              {kChanges, std::move(changes)}};
}

json List(const char* name, json objects) {
  return Object(name, "1.0", json{{"objects", std::move(objects)}});
}

json SubnetPrimitive(const VifSubnet& s) {
  json ips = json::array();
  for (const std::string& ip : s.ips) {
    ips.push_back(Object("FixedIP", "1.0", json{{"address", ip}}));
  }
  json routes = json::array();
  for (const VifRoute& r : s.routes) {
    routes.push_back(
        Object("Route", "1.0", json{{"cidr", r.cidr}, {"gateway", r.gateway}}));
  }
  json data{{"cidr", s.cidr},
            {"dns", s.dns},
            {"ips", List("FixedIPList", std::move(ips))},
            {"routes", List("RouteList", std::move(routes))}};
  if (!s.gateway.empty()) data["gateway"] = s.gateway;
  return Object("Subnet", "1.0", std::move(data));
}

json NetworkPrimitive(const VifNetwork& n) {
  json subnets = json::array();
  for (const VifSubnet& s : n.subnets) subnets.push_back(SubnetPrimitive(s));
  json data{{"id", n.id},
            {"bridge", n.bridge},
            {"multi_host", n.multi_host},
            {"should_provide_bridge", n.should_provide_bridge},
            {"should_provide_vlan", n.should_provide_vlan},
            {"subnets", List("SubnetList", std::move(subnets))}};
  if (!n.label.empty()) data["label"] = n.label;
  if (n.mtu > 0) data["mtu"] = n.mtu;
  return Object("Network", "1.1", std::move(data));
}

// The data of an object primitive, or null when `p` is not one.
const json* DataOf(const json& p) {
  if (!p.is_object()) return nullptr;
  auto it = p.find(kData);
  return it != p.end() && it->is_object() ? &*it : nullptr;
}

std::string Str(const json* o, const char* key) {
  if (o == nullptr) return "";
  auto it = o->find(key);
  return it != o->end() && it->is_string() ? it->get<std::string>() : "";
}

bool Bool(const json* o, const char* key) {
  if (o == nullptr) return false;
  auto it = o->find(key);
  return it != o->end() && it->is_boolean() && it->get<bool>();
}

// The objects of a list primitive (SubnetList, FixedIPList, RouteList).
std::vector<const json*> Items(const json* owner, const char* key) {
  std::vector<const json*> out;
  if (owner == nullptr) return out;
  auto it = owner->find(key);
  if (it == owner->end()) return out;
  const json* data = DataOf(*it);
  if (data == nullptr) return out;
  auto objects = data->find("objects");
  if (objects == data->end() || !objects->is_array()) return out;
  for (const json& o : *objects) {
    if (const json* d = DataOf(o)) out.push_back(d);
  }
  return out;
}

VifNetwork NetworkFrom(const json* data) {
  VifNetwork n;
  if (data == nullptr) return n;
  n.id = Str(data, "id");
  n.label = Str(data, "label");
  n.bridge = Str(data, "bridge");
  if (auto mtu = data->find("mtu");
      mtu != data->end() && mtu->is_number_integer()) {
    n.mtu = mtu->get<int>();
  }
  n.multi_host = Bool(data, "multi_host");
  n.should_provide_bridge = Bool(data, "should_provide_bridge");
  n.should_provide_vlan = Bool(data, "should_provide_vlan");
  for (const json* s : Items(data, "subnets")) {
    VifSubnet subnet;
    subnet.cidr = Str(s, "cidr");
    subnet.gateway = Str(s, "gateway");
    if (auto dns = s->find("dns"); dns != s->end() && dns->is_array()) {
      for (const json& d : *dns) {
        if (d.is_string()) subnet.dns.push_back(d.get<std::string>());
      }
    }
    for (const json* ip : Items(s, "ips")) {
      const std::string address = Str(ip, "address");
      if (!address.empty()) subnet.ips.push_back(address);
    }
    for (const json* r : Items(s, "routes")) {
      subnet.routes.push_back({Str(r, "cidr"), Str(r, "gateway")});
    }
    n.subnets.push_back(std::move(subnet));
  }
  return n;
}

}  // namespace

json VifToPrimitive(const Vif& vif) {
  json data{{"id", vif.id},
            {"address", vif.address},
            {"active", vif.active},
            {"preserve_on_delete", vif.preserve_on_delete},
            {"has_traffic_filtering", vif.has_traffic_filtering},
            {"plugin", vif.plugin},
            {"vif_name", vif.vif_name},
            {"bridge_name", vif.bridge_name},
            {"network", NetworkPrimitive(vif.network)}};
  if (vif.ovs_interface_id) {
    data["port_profile"] =
        Object("VIFPortProfileOpenVSwitch", "1.3",
               json{{"interface_id", *vif.ovs_interface_id}});
  }
  return Object(
      vif.vif_class == VifClass::kBridge ? "VIFBridge" : "VIFOpenVSwitch",
      "1.0", std::move(data));
}

absl::StatusOr<Vif> VifFromPrimitive(const json& primitive) {
  const json* data = DataOf(primitive);
  const std::string name =
      primitive.is_object() ? Str(&primitive, kName) : std::string();
  Vif vif;
  if (name == "VIFBridge") {
    vif.vif_class = VifClass::kBridge;
  } else if (name == "VIFOpenVSwitch") {
    vif.vif_class = VifClass::kOpenVSwitch;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("not a VIFBridge or VIFOpenVSwitch primitive (",
                     name.empty() ? "no versioned_object.name" : name, ")"));
  }
  vif.id = Str(data, "id");
  vif.address = Str(data, "address");
  if (data == nullptr || vif.id.empty() || vif.address.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " primitive without id or address"));
  }
  vif.vif_name = Str(data, "vif_name");
  if (vif.vif_name.empty()) vif.vif_name = TapName(vif.id);
  vif.bridge_name = Str(data, "bridge_name");
  vif.plugin = Str(data, "plugin");
  vif.active = Bool(data, "active");
  vif.preserve_on_delete = Bool(data, "preserve_on_delete");
  vif.has_traffic_filtering = Bool(data, "has_traffic_filtering");
  if (auto profile = data->find("port_profile"); profile != data->end()) {
    const std::string id = Str(DataOf(*profile), "interface_id");
    if (!id.empty()) vif.ovs_interface_id = id;
  }
  if (auto net = data->find("network"); net != data->end()) {
    vif.network = NetworkFrom(DataOf(*net));
  }
  return vif;
}

json CniMetadata(const CapsuleVifs& vifs) {
  json data{{"default_vif", VifToPrimitive(vifs.default_vif)}};
  if (!vifs.additional.empty()) {
    json extra = json::object();
    for (const auto& [ifname, vif] : vifs.additional) {
      extra[ifname] = VifToPrimitive(vif);
    }
    data["additional_vifs"] = std::move(extra);
  }
  return json{{"vif", Object("VIFState", "1.0", std::move(data))}};
}

absl::StatusOr<CapsuleVifs> ParseCniMetadata(const json& metadata) {
  json parsed = metadata;
  if (metadata.is_string()) {
    parsed = json::parse(metadata.get<std::string>(), nullptr, false);
    if (parsed.is_discarded()) {
      return absl::InvalidArgumentError("cni_metadata is not JSON");
    }
  }
  if (parsed.is_null() ||
      (parsed.is_object() && parsed.find("vif") == parsed.end())) {
    return absl::NotFoundError("cni_metadata has no VIF");
  }
  if (!parsed.is_object()) {
    return absl::InvalidArgumentError("cni_metadata is not a JSON object");
  }
  const json* state = DataOf(parsed["vif"]);
  if (state == nullptr) {
    return absl::InvalidArgumentError("cni_metadata.vif is not a VIFState");
  }
  auto def = state->find("default_vif");
  if (def == state->end()) {
    return absl::InvalidArgumentError("the VIFState has no default_vif");
  }
  CapsuleVifs out;
  absl::StatusOr<Vif> vif = VifFromPrimitive(*def);
  if (!vif.ok()) return vif.status();
  out.default_vif = *std::move(vif);
  if (auto extra = state->find("additional_vifs");
      extra != state->end() && extra->is_object()) {
    for (auto it = extra->begin(); it != extra->end(); ++it) {
      absl::StatusOr<Vif> v = VifFromPrimitive(it.value());
      if (!v.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "additional VIF '", it.key(), "': ", v.status().message()));
      }
      out.additional.emplace(it.key(), *std::move(v));
    }
  }
  return out;
}

}  // namespace zun::cni
