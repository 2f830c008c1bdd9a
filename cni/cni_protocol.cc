#include "cni/cni_protocol.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace zun::cni {
namespace {

using nlohmann::json;

// "0.4.0" -> {0, 4, 0}; non-numeric parts count as 0.
std::vector<int> VersionParts(std::string_view v) {
  std::vector<int> parts;
  for (absl::string_view p : absl::StrSplit(AV(v), '.')) {
    int n = 0;
    if (!absl::SimpleAtoi(p, &n)) n = 0;
    parts.push_back(n);
  }
  return parts;
}

// "10.0.0.5" on "10.0.0.0/26" -> "10.0.0.5/26".
absl::StatusOr<std::string> AddressWithPrefix(const std::string& ip,
                                              const std::string& cidr) {
  if (ip.find('/') != std::string::npos) return ip;
  const int prefix = PrefixLength(cidr);
  if (prefix < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subnet cidr '", cidr, "' of address '", ip, "' has no prefix length"));
  }
  return absl::StrCat(ip, "/", prefix);
}

// Interface names in the order the sandbox gets them: eth2 before eth10.
bool IfnameLess(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

}  // namespace

const std::vector<std::string>& SupportedCniVersions() {
  static const std::vector<std::string>* const kVersions =
      new std::vector<std::string>{"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
  return *kVersions;
}

bool IsSupportedCniVersion(std::string_view version) {
  const auto& all = SupportedCniVersions();
  return std::find(all.begin(), all.end(), version) != all.end();
}

bool CniVersionAtLeast(std::string_view a, std::string_view b) {
  std::vector<int> pa = VersionParts(a);
  std::vector<int> pb = VersionParts(b);
  const size_t n = std::max(pa.size(), pb.size());
  pa.resize(n, 0);
  pb.resize(n, 0);
  return pa >= pb;
}

absl::StatusOr<std::map<std::string, std::string>> ParseCniArgs(
    std::string_view cni_args) {
  std::map<std::string, std::string> out;
  for (absl::string_view element : absl::StrSplit(AV(cni_args), ';')) {
    if (element.empty()) continue;
    const size_t eq = element.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CNI_ARGS element '", element, "' is not of the form KEY=VALUE"));
    }
    std::string key(element.substr(0, eq));
    if (absl::StartsWith(key, "_")) continue;
    out[std::move(key)] = std::string(element.substr(eq + 1));
  }
  return out;
}

json VersionResponse(const std::string& config_version) {
  return json{{"cniVersion",
               config_version.empty() ? kDefaultCniVersion : config_version},
              {"supportedVersions", SupportedCniVersions()}};
}

absl::StatusOr<json> BuildAddResult(const std::string& cni_version,
                                    const std::vector<NamedVif>& vifs,
                                    const std::string& netns) {
  if (!IsSupportedCniVersion(cni_version)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported cniVersion '", cni_version, "'"));
  }
  const bool with_ip_version = !CniVersionAtLeast(cni_version, "1.0.0");
  json interfaces = json::array();
  json ips = json::array();
  json routes = json::array();
  std::vector<std::string> nameservers;
  bool default_v4 = false;
  bool default_v6 = false;
  for (size_t index = 0; index < vifs.size(); ++index) {
    const NamedVif& nv = vifs[index];
    interfaces.push_back(
        {{"name", nv.ifname}, {"mac", nv.vif.address}, {"sandbox", netns}});
    for (const VifSubnet& subnet : nv.vif.network.subnets) {
      const bool has_gateway = !subnet.gateway.empty();
      const bool gateway_v6 = has_gateway && IsIpv6(subnet.gateway);
      for (const std::string& ip : subnet.ips) {
        auto address = AddressWithPrefix(ip, subnet.cidr);
        if (!address.ok()) return address.status();
        json entry = {{"address", *address}, {"interface", index}};
        if (with_ip_version) entry["version"] = IsIpv6(ip) ? "6" : "4";
        if (has_gateway && IsIpv6(ip) == gateway_v6) {
          entry["gateway"] = subnet.gateway;
        }
        ips.push_back(std::move(entry));
      }
      for (const VifRoute& route : subnet.routes) {
        if (PrefixLength(route.cidr) < 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "host route destination '", route.cidr, "' is not a cidr"));
        }
        json r = {{"dst", route.cidr}};
        if (!route.gateway.empty()) r["gw"] = route.gateway;
        routes.push_back(std::move(r));
      }
      // The sandbox's default route goes through eth0's gateway, one per
      // IP family (the first subnet of that family with a gateway).
      bool& have_default = gateway_v6 ? default_v6 : default_v4;
      if (index == 0 && has_gateway && !have_default) {
        have_default = true;
        routes.push_back({{"dst", gateway_v6 ? "::/0" : "0.0.0.0/0"},
                          {"gw", subnet.gateway}});
      }
      for (const std::string& ns : subnet.dns) {
        if (std::find(nameservers.begin(), nameservers.end(), ns) ==
            nameservers.end()) {
          nameservers.push_back(ns);
        }
      }
    }
  }
  json result = {{"cniVersion", cni_version},
                 {"interfaces", std::move(interfaces)},
                 {"ips", std::move(ips)},
                 {"routes", std::move(routes)}};
  if (!nameservers.empty()) {
    result["dns"] = {{"nameservers", nameservers}};
  }
  return result;
}

json ErrorJson(const std::string& cni_version, const CniError& error) {
  return json{{"cniVersion", cni_version},
              {"code", error.code},
              {"msg", error.msg},
              {"details", error.details}};
}

json DaemonRequestBody(const std::map<std::string, std::string>& env,
                       const json& config) {
  json body = json::object();
  for (const auto& [name, value] : env) {
    if (absl::StartsWith(name, "CNI_")) body[name] = value;
  }
  body["config_zun"] = config;
  return body;
}

absl::StatusOr<std::vector<NamedVif>> ParseAddAnswer(
    const std::string& body, const std::string& default_ifname) {
  json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) {
    return absl::InvalidArgumentError(
        "the daemon's ADD answer is not a JSON object");
  }
  json additional = json::object();
  if (auto it = answer.find("zun_additional_vifs"); it != answer.end()) {
    if (!it->is_null() && !it->is_object()) {
      return absl::InvalidArgumentError(
          "zun_additional_vifs of the daemon's ADD answer is not an object");
    }
    if (it->is_object()) additional = std::move(*it);
    answer.erase(it);
  }
  std::vector<NamedVif> vifs;
  auto default_vif = VifFromPrimitive(answer);
  if (!default_vif.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the daemon's VIF for '", default_ifname,
                     "': ", default_vif.status().message()));
  }
  vifs.push_back({default_ifname, *std::move(default_vif)});
  std::vector<std::string> names;
  for (const auto& [name, primitive] : additional.items()) {
    if (name == default_ifname || name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "zun_additional_vifs names interface '", name, "' again"));
    }
    names.push_back(name);
  }
  std::sort(names.begin(), names.end(), IfnameLess);
  for (const std::string& name : names) {
    auto vif = VifFromPrimitive(additional[name]);
    if (!vif.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the daemon's VIF for '", name, "': ", vif.status().message()));
    }
    vifs.push_back({name, *std::move(vif)});
  }
  return vifs;
}

std::string DaemonReason(const std::string& body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return "";
  auto it = j.find("reason");
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace zun::cni
