#include "openstack/neutron.h"

#include "absl/strings/str_cat.h"

namespace zun::openstack {

using nlohmann::json;

std::string UrlEscape(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

HttpNeutronClient::HttpNeutronClient(ServiceClient& service)
    : service_(service) {}

absl::StatusOr<json> HttpNeutronClient::Call(const std::string& method,
                                             const std::string& path,
                                             const std::string& key,
                                             const std::string& what,
                                             const std::string& body) {
  absl::StatusOr<HttpResponse> r =
      service_.Send(method, absl::StrCat("/v2.0", path), body);
  if (!r.ok()) return r.status();
  if (absl::Status s = StatusFromHttp(*r, absl::StrCat("Neutron: ", what));
      !s.ok()) {
    return s;
  }
  json doc = json::parse(r->body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains(key)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Neutron: ", what, ": the answer has no '", key, "' object"));
  }
  return doc[key];
}

absl::StatusOr<json> HttpNeutronClient::CreatePort(const json& port) {
  return Call("POST", "/ports", "port", "creating a port",
              json{{"port", port}}.dump(
                  -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

absl::StatusOr<json> HttpNeutronClient::UpdatePort(const std::string& id,
                                                   const json& changes) {
  return Call("PUT", absl::StrCat("/ports/", UrlEscape(id)), "port",
              absl::StrCat("updating port ", id),
              json{{"port", changes}}.dump(
                  -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

absl::StatusOr<json> HttpNeutronClient::ShowPort(const std::string& id) {
  return Call("GET", absl::StrCat("/ports/", UrlEscape(id)), "port",
              absl::StrCat("reading port ", id));
}

absl::Status HttpNeutronClient::DeletePort(const std::string& id) {
  absl::StatusOr<HttpResponse> r =
      service_.Send("DELETE", absl::StrCat("/v2.0/ports/", UrlEscape(id)));
  if (!r.ok()) return r.status();
  if (r->status == 404) return absl::OkStatus();
  return StatusFromHttp(*r, absl::StrCat("Neutron: deleting port ", id));
}

absl::StatusOr<std::vector<json>> HttpNeutronClient::List(
    const std::string& what,
    const std::vector<std::pair<std::string, std::string>>& filters) {
  std::string path = "/" + what;
  char sep = '?';
  for (const auto& [k, v] : filters) {
    absl::StrAppend(&path, std::string(1, sep), UrlEscape(k), "=",
                    UrlEscape(v));
    sep = '&';
  }
  absl::StatusOr<json> items =
      Call("GET", path, what, absl::StrCat("listing ", what));
  if (!items.ok()) return items.status();
  if (!items->is_array()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Neutron: listing ", what, ": not a list"));
  }
  return items->get<std::vector<json>>();
}

absl::StatusOr<std::vector<json>> HttpNeutronClient::ListPorts(
    const std::vector<std::pair<std::string, std::string>>& filters) {
  return List("ports", filters);
}

absl::StatusOr<std::vector<json>> HttpNeutronClient::ListNetworks(
    const std::vector<std::pair<std::string, std::string>>& filters) {
  return List("networks", filters);
}

absl::StatusOr<json> HttpNeutronClient::ShowNetwork(const std::string& id) {
  return Call("GET", absl::StrCat("/networks/", UrlEscape(id)), "network",
              absl::StrCat("reading network ", id));
}

absl::StatusOr<json> HttpNeutronClient::ShowSubnet(const std::string& id) {
  return Call("GET", absl::StrCat("/subnets/", UrlEscape(id)), "subnet",
              absl::StrCat("reading subnet ", id));
}

}  // namespace zun::openstack
