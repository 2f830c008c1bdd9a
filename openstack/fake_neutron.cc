#include "openstack/fake_neutron.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace zun::openstack {

using nlohmann::json;

namespace {

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// Whether `o` matches every filter (a key given twice matches either value).
bool Matches(const json& o,
             const std::vector<std::pair<std::string, std::string>>& filters) {
  std::map<std::string, std::set<std::string>> want;
  for (const auto& [k, v] : filters) {
    if (k != "fields") want[k].insert(v);
  }
  for (const auto& [k, values] : want) {
    auto it = o.find(k);
    if (it == o.end()) return false;
    const std::string have =
        it->is_boolean()
            ? (it->get<bool>() ? "true" : "false")
            : (it->is_string() ? it->get<std::string>() : it->dump());
    if (!values.count(have)) return false;
  }
  return true;
}

}  // namespace

absl::Status FakeNeutron::Enter(const std::string& method) {
  ++calls_[method];
  auto it = fail_next_.find(method);
  if (it == fail_next_.end()) return absl::OkStatus();
  absl::Status s = it->second;
  fail_next_.erase(it);
  return s;
}

void FakeNeutron::Bind(json& port) {
  const std::string host = Str(port, "binding:host_id");
  if (host.empty()) {
    port["binding:vif_type"] = "unbound";
    port["binding:vif_details"] = json::object();
    return;
  }
  const bool ok = l2_hosts_.count(host) > 0;
  port["binding:vif_type"] = ok ? "bridge" : "binding_failed";
  port["binding:vif_details"] =
      ok ? json{{"connectivity", "l2"}, {"port_filter", true}} : json::object();
}

absl::StatusOr<json> FakeNeutron::CreatePort(const json& in) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("CreatePort"); !s.ok()) return s;
  const std::string net = Str(in, "network_id");
  if (!networks_.count(net)) return absl::NotFoundError("network not found");
  json port = in;
  char id[64];
  std::snprintf(id, sizeof id, "%08x-1111-2222-3333-444455556666", next_id_);
  char mac[32];
  std::snprintf(mac, sizeof mac, "fa:16:3e:00:%02x:%02x", next_id_ >> 8 & 255,
                next_id_ & 255);
  ++next_id_;
  port["id"] = id;
  port["mac_address"] = mac;
  port["status"] = "DOWN";
  if (!port.contains("device_id")) port["device_id"] = "";
  if (!port.contains("name")) port["name"] = "";
  const std::string subnet = SubnetOfLocked(net);
  std::string ip =
      in.contains("fixed_ips")
          ? Str(in["fixed_ips"][0], "ip_address")
          : absl::StrCat(Str(subnets_[subnet], "prefix"), ".", next_host_++);
  port["fixed_ips"] =
      json::array({json{{"subnet_id", subnet}, {"ip_address", ip}}});
  Bind(port);
  ports_[id] = port;
  return port;
}

absl::StatusOr<json> FakeNeutron::UpdatePort(const std::string& id,
                                             const json& changes) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("UpdatePort"); !s.ok()) return s;
  auto it = ports_.find(id);
  if (it == ports_.end()) return absl::NotFoundError("port not found");
  for (auto c = changes.begin(); c != changes.end(); ++c) {
    it->second[c.key()] = c.value().is_null() && c.key() == "binding:host_id"
                              ? json("")
                              : c.value();
  }
  if (changes.contains("binding:host_id")) {
    Bind(it->second);
    if (Str(it->second, "binding:host_id").empty()) {
      it->second["status"] = "DOWN";
    }
  }
  return it->second;
}

absl::StatusOr<json> FakeNeutron::ShowPort(const std::string& id) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("ShowPort"); !s.ok()) return s;
  auto it = ports_.find(id);
  if (it == ports_.end()) return absl::NotFoundError("port not found");
  return it->second;
}

absl::Status FakeNeutron::DeletePort(const std::string& id) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("DeletePort"); !s.ok()) return s;
  ports_.erase(id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<json>> FakeNeutron::ListPorts(
    const std::vector<std::pair<std::string, std::string>>& filters) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("ListPorts"); !s.ok()) return s;
  std::vector<json> out;
  for (const auto& [id, p] : ports_) {
    if (Matches(p, filters)) out.push_back(p);
  }
  return out;
}

absl::StatusOr<json> FakeNeutron::ShowNetwork(const std::string& id) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("ShowNetwork"); !s.ok()) return s;
  auto it = networks_.find(id);
  if (it == networks_.end()) return absl::NotFoundError("network not found");
  return it->second;
}

absl::StatusOr<std::vector<json>> FakeNeutron::ListNetworks(
    const std::vector<std::pair<std::string, std::string>>& filters) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("ListNetworks"); !s.ok()) return s;
  std::vector<json> out;
  for (const auto& [id, n] : networks_) {
    if (Matches(n, filters)) out.push_back(n);
  }
  return out;
}

absl::StatusOr<json> FakeNeutron::ShowSubnet(const std::string& id) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter("ShowSubnet"); !s.ok()) return s;
  auto it = subnets_.find(id);
  if (it == subnets_.end()) return absl::NotFoundError("subnet not found");
  return it->second;
}

std::string FakeNeutron::AddNetwork(const std::string& name,
                                    const std::string& prefix,
                                    const std::string& tenant, bool shared) {
  absl::MutexLock l(&mu_);
  const int n = next_id_++;
  const std::string id = absl::StrCat("net", n, "-aaaa-bbbb-cccc-dddd");
  const std::string subnet = absl::StrCat("sub", n);
  networks_[id] = json{{"id", id},
                       {"name", name},
                       {"mtu", 1500},
                       {"tenant_id", tenant},
                       {"shared", shared},
                       {"router:external", false},
                       {"created_at", absl::StrCat("2026-01-01T00:00:", n)},
                       {"subnets", json::array({subnet})}};
  subnets_[subnet] = json{{"id", subnet},
                          {"network_id", id},
                          {"prefix", prefix},
                          {"cidr", prefix + ".0/24"},
                          {"gateway_ip", prefix + ".1"},
                          {"dns_nameservers", json::array()},
                          {"host_routes", json::array()}};
  return id;
}

std::string FakeNeutron::SubnetOfLocked(const std::string& network_id) {
  for (const auto& [id, s] : subnets_) {
    if (Str(s, "network_id") == network_id) return id;
  }
  return "";
}

std::string FakeNeutron::SubnetOf(const std::string& network_id) {
  absl::MutexLock l(&mu_);
  return SubnetOfLocked(network_id);
}

void FakeNeutron::AddL2Host(const std::string& host) {
  absl::MutexLock l(&mu_);
  l2_hosts_.insert(host);
}

void FakeNeutron::SetPortStatus(const std::string& id,
                                const std::string& status) {
  absl::MutexLock l(&mu_);
  if (auto it = ports_.find(id); it != ports_.end())
    it->second["status"] = status;
}

void FakeNeutron::FailNext(const std::string& method, absl::Status error) {
  absl::MutexLock l(&mu_);
  fail_next_[method] = std::move(error);
}

std::vector<json> FakeNeutron::Ports() {
  absl::MutexLock l(&mu_);
  std::vector<json> out;
  for (const auto& [id, p] : ports_) out.push_back(p);
  return out;
}

int FakeNeutron::calls(const std::string& method) {
  absl::MutexLock l(&mu_);
  return calls_[method];
}

}  // namespace zun::openstack
