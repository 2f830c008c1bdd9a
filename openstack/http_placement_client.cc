#include "openstack/http_placement_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace zun::openstack {
namespace {

using nlohmann::json;

// Placement's error code of a 409 answer ("" if none).
std::string ErrorCode(const HttpResponse& r) {
  json doc = json::parse(r.body, nullptr, false);
  if (doc.is_discarded() || !doc.contains("errors") ||
      !doc["errors"].is_array() || doc["errors"].empty() ||
      !doc["errors"][0].is_object()) {
    return "";
  }
  return doc["errors"][0].value("code", "");
}

absl::Status Check(const HttpResponse& r, const std::string& what) {
  absl::Status s = StatusFromHttp(r, absl::StrCat("Placement: ", what));
  if (r.status != 409) return s;
  const std::string code = ErrorCode(r);
  if (code == "placement.inventory.inuse") {
    return absl::FailedPreconditionError(s.message());
  }
  if (code == "placement.duplicate_name" ||
      absl::StrContains(r.body, "already exists")) {
    return absl::AlreadyExistsError(s.message());
  }
  return s;  // ABORTED: concurrent update / generation conflict
}

absl::StatusOr<json> Parse(const HttpResponse& r, const std::string& what) {
  json doc = json::parse(r.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Placement: ", what, ": the answer is not a JSON object"));
  }
  return doc;
}

ResourceProvider ProviderFrom(const json& j) {
  ResourceProvider p;
  p.uuid = j.value("uuid", "");
  p.name = j.value("name", "");
  p.generation = j.value("generation", int64_t{0});
  return p;
}

Resources ResourcesFrom(const json& j) {
  Resources out;
  if (!j.is_object()) return out;
  for (const auto& [rc, amount] : j.items()) {
    if (amount.is_number_integer()) out[rc] = amount.get<int64_t>();
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> PlacementHeaders() {
  return {{"OpenStack-API-Version", kPlacementMicroversion}};
}

HttpPlacementClient::HttpPlacementClient(ServiceClient& service)
    : service_(service) {}

absl::StatusOr<nlohmann::json> HttpPlacementClient::Json(
    const std::string& method, const std::string& path, const std::string& what,
    const std::string& body) {
  absl::StatusOr<HttpResponse> r = service_.Send(method, path, body);
  if (!r.ok()) return r.status();
  if (absl::Status s = Check(*r, what); !s.ok()) return s;
  return Parse(*r, what);
}

absl::StatusOr<std::optional<ResourceProvider>>
HttpPlacementClient::GetProvider(const std::string& uuid) {
  const std::string what = absl::StrCat("GET resource provider ", uuid);
  absl::StatusOr<HttpResponse> r =
      service_.Send("GET", absl::StrCat("/resource_providers/", uuid));
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::nullopt;
  if (absl::Status s = Check(*r, what); !s.ok()) return s;
  absl::StatusOr<json> doc = Parse(*r, what);
  if (!doc.ok()) return doc.status();
  return ProviderFrom(*doc);
}

absl::StatusOr<std::vector<ResourceProvider>>
HttpPlacementClient::FindProviders(const std::string& name) {
  // Host names need no escaping beyond what a host name may hold.
  absl::StatusOr<json> doc =
      Json("GET", absl::StrCat("/resource_providers?name=", name),
           absl::StrCat("find resource provider ", name));
  if (!doc.ok()) return doc.status();
  std::vector<ResourceProvider> out;
  if (doc->contains("resource_providers") &&
      (*doc)["resource_providers"].is_array()) {
    for (const json& p : (*doc)["resource_providers"]) {
      out.push_back(ProviderFrom(p));
    }
  }
  return out;
}

absl::StatusOr<ResourceProvider> HttpPlacementClient::CreateProvider(
    const std::string& uuid, const std::string& name) {
  const std::string what = absl::StrCat("create resource provider ", uuid);
  absl::StatusOr<HttpResponse> r =
      service_.Send("POST", "/resource_providers",
                    json{{"uuid", uuid}, {"name", name}}.dump());
  if (!r.ok()) return r.status();
  if (r->status == 409) {
    return absl::AlreadyExistsError(
        absl::StrCat("Placement: ", what, ": the uuid or the name '", name,
                     "' is taken: ", r->body.substr(0, 200)));
  }
  if (absl::Status s = Check(*r, what); !s.ok()) return s;
  absl::StatusOr<json> doc = Parse(*r, what);
  if (!doc.ok()) return doc.status();
  return ProviderFrom(*doc);
}

absl::StatusOr<ProviderInventories> HttpPlacementClient::GetInventories(
    const std::string& uuid) {
  absl::StatusOr<json> doc =
      Json("GET", absl::StrCat("/resource_providers/", uuid, "/inventories"),
           absl::StrCat("GET inventories of ", uuid));
  if (!doc.ok()) return doc.status();
  ProviderInventories out;
  out.generation = doc->value("resource_provider_generation", int64_t{0});
  if (doc->contains("inventories") && (*doc)["inventories"].is_object()) {
    for (const auto& [rc, j] : (*doc)["inventories"].items()) {
      Inventory inv;
      inv.total = j.value("total", int64_t{0});
      inv.reserved = j.value("reserved", int64_t{0});
      inv.min_unit = j.value("min_unit", int64_t{1});
      inv.max_unit = j.value("max_unit", int64_t{1});
      inv.step_size = j.value("step_size", int64_t{1});
      inv.allocation_ratio = j.value("allocation_ratio", 1.0);
      out.inventories[rc] = inv;
    }
  }
  return out;
}

absl::StatusOr<int64_t> HttpPlacementClient::SetInventories(
    const std::string& uuid, int64_t generation,
    const Inventories& inventories) {
  const std::string what = absl::StrCat("PUT inventories of ", uuid);
  json inv = json::object();
  for (const auto& [rc, i] : inventories) {
    inv[rc] = {
        {"total", i.total},         {"reserved", i.reserved},
        {"min_unit", i.min_unit},   {"max_unit", i.max_unit},
        {"step_size", i.step_size}, {"allocation_ratio", i.allocation_ratio}};
  }
  absl::StatusOr<json> doc = Json(
      "PUT", absl::StrCat("/resource_providers/", uuid, "/inventories"), what,
      json{{"resource_provider_generation", generation}, {"inventories", inv}}
          .dump());
  if (!doc.ok()) return doc.status();
  return doc->value("resource_provider_generation", generation + 1);
}

absl::StatusOr<ProviderTraits> HttpPlacementClient::GetTraits(
    const std::string& uuid) {
  absl::StatusOr<json> doc =
      Json("GET", absl::StrCat("/resource_providers/", uuid, "/traits"),
           absl::StrCat("GET traits of ", uuid));
  if (!doc.ok()) return doc.status();
  ProviderTraits out;
  out.generation = doc->value("resource_provider_generation", int64_t{0});
  if (doc->contains("traits") && (*doc)["traits"].is_array()) {
    for (const json& t : (*doc)["traits"]) {
      if (t.is_string()) out.traits.insert(t.get<std::string>());
    }
  }
  return out;
}

absl::StatusOr<int64_t> HttpPlacementClient::SetTraits(
    const std::string& uuid, int64_t generation,
    const std::set<std::string>& traits) {
  absl::StatusOr<json> doc = Json(
      "PUT", absl::StrCat("/resource_providers/", uuid, "/traits"),
      absl::StrCat("PUT traits of ", uuid),
      json{{"resource_provider_generation", generation}, {"traits", traits}}
          .dump());
  if (!doc.ok()) return doc.status();
  return doc->value("resource_provider_generation", generation + 1);
}

absl::Status HttpPlacementClient::EnsureTrait(const std::string& name) {
  absl::StatusOr<HttpResponse> r =
      service_.Send("PUT", absl::StrCat("/traits/", name));
  if (!r.ok()) return r.status();
  return Check(*r, absl::StrCat("PUT trait ", name));  // 201 or 204
}

absl::StatusOr<std::map<std::string, Resources>>
HttpPlacementClient::ProviderAllocations(const std::string& uuid) {
  absl::StatusOr<json> doc =
      Json("GET", absl::StrCat("/resource_providers/", uuid, "/allocations"),
           absl::StrCat("GET allocations of ", uuid));
  if (!doc.ok()) return doc.status();
  std::map<std::string, Resources> out;
  if (doc->contains("allocations") && (*doc)["allocations"].is_object()) {
    for (const auto& [consumer, a] : (*doc)["allocations"].items()) {
      out[consumer] = ResourcesFrom(a.value("resources", json::object()));
    }
  }
  return out;
}

absl::Status HttpPlacementClient::DeleteAllocations(
    const std::string& consumer) {
  absl::StatusOr<HttpResponse> r =
      service_.Send("DELETE", absl::StrCat("/allocations/", consumer));
  if (!r.ok()) return r.status();
  if (r->status == 404) return absl::OkStatus();  // none (any more)
  return Check(*r, absl::StrCat("DELETE allocations of ", consumer));
}

absl::StatusOr<AllocationCandidates>
HttpPlacementClient::GetAllocationCandidates(
    const Resources& resources, const std::set<std::string>& forbidden,
    int limit) {
  std::vector<std::string> parts;
  for (const auto& [rc, n] : resources)
    parts.push_back(absl::StrCat(rc, ":", n));
  std::string query = absl::StrCat("resources=", absl::StrJoin(parts, ","));
  if (!forbidden.empty()) {
    std::vector<std::string> f;
    for (const std::string& t : forbidden) f.push_back("!" + t);
    absl::StrAppend(&query, "&required=", absl::StrJoin(f, ","));
  }
  if (limit > 0) absl::StrAppend(&query, "&limit=", limit);
  absl::StatusOr<json> doc =
      Json("GET", absl::StrCat("/allocation_candidates?", query),
           "GET allocation candidates");
  if (!doc.ok()) return doc.status();
  AllocationCandidates out;
  if (doc->contains("allocation_requests") &&
      (*doc)["allocation_requests"].is_array()) {
    for (const json& req : (*doc)["allocation_requests"]) {
      AllocationRequest a;
      if (req.contains("allocations") && req["allocations"].is_object()) {
        for (const auto& [rp, j] : req["allocations"].items()) {
          a.allocations[rp] =
              ResourcesFrom(j.value("resources", json::object()));
        }
      }
      out.requests.push_back(std::move(a));
    }
  }
  return out;
}

absl::Status HttpPlacementClient::ClaimAllocations(
    const std::string& consumer, const AllocationRequest& request,
    const std::string& project_id, const std::string& user_id) {
  json allocations = json::object();
  for (const auto& [rp, res] : request.allocations) {
    allocations[rp] = {{"resources", res}};
  }
  absl::StatusOr<HttpResponse> r =
      service_.Send("PUT", absl::StrCat("/allocations/", consumer),
                    json{{"allocations", allocations},
                         {"project_id", project_id},
                         {"user_id", user_id},
                         {"consumer_generation", nullptr}}
                        .dump());
  if (!r.ok()) return r.status();
  absl::Status s = Check(*r, absl::StrCat("PUT allocations of ", consumer));
  if (absl::IsAlreadyExists(s)) return absl::AbortedError(s.message());
  return s;
}

}  // namespace zun::openstack
