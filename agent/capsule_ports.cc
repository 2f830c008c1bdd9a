#include "agent/capsule_ports.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "cni/vif.h"

namespace zun::agent {

namespace {

using nlohmann::json;

std::string Str(const json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Truthy(const json& o, const char* key) {
  if (!o.is_object()) return false;
  auto it = o.find(key);
  if (it == o.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const std::string v = it->get<std::string>();
    return v == "True" || v == "true" || v == "1";
  }
  return false;
}

// port id -> preserve_on_delete, from an `addresses` value.
std::map<std::string, bool> PortsOf(const json& addresses) {
  std::map<std::string, bool> out;
  if (!addresses.is_object()) return out;
  for (const auto& [net, list] : addresses.items()) {
    if (!list.is_array()) continue;
    for (const json& a : list) {
      const std::string port = Str(a, "port");
      if (!port.empty()) out[port] = Truthy(a, "preserve_on_delete");
    }
  }
  return out;
}

absl::Status Annotate(const std::string& what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

}  // namespace

std::vector<RequestedNetwork> ParseRequestedNetworks(const json& list) {
  std::vector<RequestedNetwork> out;
  if (!list.is_array()) return out;
  for (const json& e : list) {
    RequestedNetwork r;
    r.network = Str(e, "network");
    r.port = Str(e, "port");
    r.fixed_ip = Str(e, "fixed_ip");
    r.preserve_on_delete = Truthy(e, "preserve_on_delete");
    if (r.network.empty() && r.port.empty()) continue;
    out.push_back(std::move(r));
  }
  return out;
}

PortBinder::PortBinder(openstack::NeutronClient& neutron, PortOptions options)
    : neutron_(neutron), options_(std::move(options)) {}

std::string PortBinder::PortName(const std::string& uuid) {
  return absl::StrCat("zun-capsule-", uuid);
}

absl::StatusOr<json> PortBinder::Acquire(const std::string& uuid,
                                         const std::string& project_id,
                                         const RequestedNetwork& want,
                                         std::vector<json>& mine,
                                         bool& created) {
  created = false;
  const json binding{{"device_id", uuid},
                     {"device_owner", "compute:zun"},
                     {"binding:host_id", options_.host}};
  absl::StatusOr<json> port = want.port.empty()
                                  ? absl::NotFoundError("no port requested")
                                  : neutron_.ShowPort(want.port);
  // A port of ours that vanished (deleted behind our back) is made anew
  // below; a user's port must exist.
  if (!want.port.empty() &&
      (port.ok() || port.status().code() != absl::StatusCode::kNotFound ||
       want.preserve_on_delete)) {
    if (!port.ok()) return port.status();
    const std::string device = Str(*port, "device_id");
    if (!device.empty() && device != uuid) {
      return absl::InvalidArgumentError(
          absl::StrCat("port ", want.port, " is in use by device ", device));
    }
    if (Str(*port, "name") == PortName(uuid)) created = true;
    return neutron_.UpdatePort(want.port, binding);
  }
  // A port an earlier attempt made on this network (a redelivered or
  // resumed create): reuse it rather than make a second one.
  for (auto it = mine.begin(); it != mine.end(); ++it) {
    if (Str(*it, "network_id") != want.network ||
        Str(*it, "name") != PortName(uuid)) {
      continue;
    }
    const std::string id = Str(*it, "id");
    mine.erase(it);
    created = true;
    return neutron_.UpdatePort(id, binding);
  }
  json body = binding;
  body["network_id"] = want.network;
  body["tenant_id"] = project_id;
  body["name"] = PortName(uuid);
  if (!want.fixed_ip.empty()) {
    body["fixed_ips"] = json::array({json{{"ip_address", want.fixed_ip}}});
  }
  created = true;
  return neutron_.CreatePort(body);
}

absl::StatusOr<CapsulePorts> PortBinder::Bind(
    const std::string& uuid, const std::string& project_id,
    const std::vector<RequestedNetwork>& wanted, const json& recorded_addresses,
    const json& recorded_metadata) {
  const std::map<std::string, bool> recorded = PortsOf(recorded_addresses);
  // The ports the capsule already has, in interface order, win over the
  // request: a recreated pod keeps its addresses.
  std::vector<RequestedNetwork> plan;
  if (absl::StatusOr<cni::CapsuleVifs> vifs =
          cni::ParseCniMetadata(recorded_metadata);
      vifs.ok() && recorded.count(vifs->default_vif.id)) {
    std::vector<const cni::Vif*> order = {&vifs->default_vif};
    for (const auto& [ifname, vif] : vifs->additional) order.push_back(&vif);
    for (const cni::Vif* v : order) {
      auto it = recorded.find(v->id);
      if (it == recorded.end()) continue;
      plan.push_back({v->network.id, v->id, "", it->second});
    }
  } else {
    plan = wanted;
  }
  if (plan.empty()) {
    return absl::FailedPreconditionError(
        "no network was requested for the capsule (requested_networks is "
        "empty) and it has no Neutron port");
  }
  absl::StatusOr<std::vector<json>> mine =
      neutron_.ListPorts({{"device_id", uuid}});
  if (!mine.ok()) return Annotate("listing the capsule's ports", mine.status());

  std::vector<std::pair<std::string, bool>> acquired;  // id, ours
  auto rollback = [&](const absl::Status& why) {
    for (const auto& [id, ours] : acquired) {
      (ours ? neutron_.DeletePort(id) : Unbind(id)).IgnoreError();
    }
    return why;
  };
  CapsulePorts out;
  out.addresses = json::object();
  cni::CapsuleVifs vifs;
  for (size_t i = 0; i < plan.size(); ++i) {
    const RequestedNetwork& want = plan[i];
    bool ours = false;
    absl::StatusOr<json> port = Acquire(uuid, project_id, want, *mine, ours);
    if (!port.ok()) {
      return rollback(
          Annotate(absl::StrCat("binding a port on network ", want.network),
                   port.status()));
    }
    const std::string id = Str(*port, "id");
    acquired.emplace_back(id, ours);
    const bool preserve = !ours;
    const std::string net_id = Str(*port, "network_id");
    absl::StatusOr<json> network = neutron_.ShowNetwork(net_id);
    if (!network.ok()) return rollback(network.status());
    std::vector<json> subnets;
    std::set<std::string> seen;
    json& list = out.addresses[net_id];
    if (!list.is_array()) list = json::array();
    for (const json& ip : port->value("fixed_ips", json::array())) {
      const std::string sid = Str(ip, "subnet_id");
      const std::string addr = Str(ip, "ip_address");
      list.push_back(json{{"addr", addr},
                          {"version", cni::IsIpv6(addr) ? 6 : 4},
                          {"port", id},
                          {"subnet_id", sid},
                          {"preserve_on_delete", preserve}});
      if (sid.empty() || !seen.insert(sid).second) continue;
      absl::StatusOr<json> subnet = neutron_.ShowSubnet(sid);
      if (!subnet.ok()) return rollback(subnet.status());
      subnets.push_back(*std::move(subnet));
    }
    absl::StatusOr<cni::Vif> vif =
        cni::TranslatePort(*port, *network, subnets, options_.ovs_bridge);
    if (!vif.ok()) return rollback(vif.status());
    if (i == 0) {
      vifs.default_vif = *std::move(vif);
    } else {
      vifs.additional.emplace(absl::StrCat("eth", i), *std::move(vif));
    }
  }
  out.cni_metadata = cni::CniMetadata(vifs);
  return out;
}

absl::Status PortBinder::Unbind(const std::string& port_id) {
  absl::StatusOr<json> port = neutron_.ShowPort(port_id);
  if (port.status().code() == absl::StatusCode::kNotFound) {
    return absl::OkStatus();
  }
  if (!port.ok()) return port.status();
  json profile = port->value("binding:profile", json::object());
  if (!profile.is_object()) profile = json::object();
  profile.erase("pci_vendor_info");
  profile.erase("pci_slot");
  absl::StatusOr<json> r =
      neutron_.UpdatePort(port_id, json{{"device_id", ""},
                                        {"device_owner", ""},
                                        {"binding:host_id", nullptr},
                                        {"binding:profile", profile}});
  if (r.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return r.status();
}

absl::Status PortBinder::Release(const std::string& uuid,
                                 const json& recorded_addresses) {
  std::map<std::string, bool> ports = PortsOf(recorded_addresses);
  absl::StatusOr<std::vector<json>> mine =
      neutron_.ListPorts({{"device_id", uuid}});
  if (!mine.ok()) return Annotate("listing the capsule's ports", mine.status());
  for (const json& p : *mine) {
    const std::string id = Str(p, "id");
    if (!id.empty() && !ports.count(id)) {
      ports[id] = Str(p, "name") != PortName(uuid);
    }
  }
  absl::Status first;
  for (const auto& [id, preserve] : ports) {
    absl::Status s = preserve ? Unbind(id) : neutron_.DeletePort(id);
    if (!s.ok() && first.ok()) {
      first = Annotate(
          absl::StrCat(preserve ? "unbinding" : "deleting", " port ", id), s);
    }
  }
  return first;
}

}  // namespace zun::agent
