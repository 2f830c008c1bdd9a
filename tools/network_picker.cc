#include "tools/network_picker.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace zun::tools {

namespace {

using nlohmann::json;

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Flag(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

json Entry(const json& network, const std::string& port,
           const std::string& fixed_ip, bool preserve) {
  return json{{"network", Str(network, "id")},
              {"port", port},
              {"router:external", Flag(network, "router:external")},
              {"shared", Flag(network, "shared")},
              {"fixed_ip", fixed_ip},
              {"preserve_on_delete", preserve}};
}

// The oldest network matching `filters` (null when none).
absl::StatusOr<json> Oldest(
    openstack::NeutronClient& neutron,
    const std::vector<std::pair<std::string, std::string>>& filters) {
  absl::StatusOr<std::vector<json>> nets = neutron.ListNetworks(filters);
  if (!nets.ok()) return nets.status();
  if (nets->empty()) return json();
  return *std::min_element(nets->begin(), nets->end(),
                           [](const json& a, const json& b) {
                             return Str(a, "created_at") < Str(b, "created_at");
                           });
}

}  // namespace

absl::StatusOr<json> RequestedNetworks(openstack::NeutronClient& neutron,
                                       const std::string& project,
                                       const std::vector<std::string>& opts) {
  json out = json::array();
  for (const std::string& opt : opts) {
    std::map<std::string, std::string> kv;
    for (absl::string_view part : absl::StrSplit(opt, ',')) {
      std::pair<std::string, std::string> p = absl::StrSplit(part, '=');
      if (p.first.empty() || p.second.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--net ", opt, ": expected key=value pairs"));
      }
      kv[p.first] = p.second;
    }
    const std::string fixed =
        kv.count("v4-fixed-ip") ? kv["v4-fixed-ip"] : kv["v6-fixed-ip"];
    if (kv.count("port")) {
      absl::StatusOr<json> port = neutron.ShowPort(kv["port"]);
      if (!port.ok()) return port.status();
      if (!Str(*port, "device_id").empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "port ", kv["port"], " is in use by ", Str(*port, "device_id")));
      }
      const std::string owner = Str(*port, "tenant_id");
      if (!owner.empty() && owner != project) {
        return absl::FailedPreconditionError(
            absl::StrCat("port ", kv["port"], " belongs to another project"));
      }
      if (Str(*port, "binding:vif_type") == "binding_failed") {
        return absl::FailedPreconditionError(
            absl::StrCat("port ", kv["port"], " failed to bind"));
      }
      absl::StatusOr<json> net = neutron.ShowNetwork(Str(*port, "network_id"));
      if (!net.ok()) return net.status();
      out.push_back(Entry(*net, kv["port"], "", true));
    } else if (kv.count("network")) {
      absl::StatusOr<json> net = neutron.ShowNetwork(kv["network"]);
      if (!net.ok()) return net.status();
      out.push_back(Entry(*net, "", fixed, false));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--net ", opt, ": needs network=ID or port=ID"));
    }
  }
  if (!out.empty()) return out;
  absl::StatusOr<json> own =
      Oldest(neutron, {{"tenant_id", project}, {"shared", "false"}});
  if (!own.ok()) return own.status();
  if (own->is_null()) {
    own = Oldest(neutron, {{"shared", "true"}});
    if (!own.ok()) return own.status();
  }
  if (own->is_null()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no network is available to project ", project,
        " (none of its own, none shared): create one or pass --net"));
  }
  out.push_back(Entry(*own, "", "", false));
  return out;
}

}  // namespace zun::tools
