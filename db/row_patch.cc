#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "db/capsule_store.h"

namespace zun::db {
namespace {

// Columns of `container` that the agent writes (contract §4.2 plus the
// statuses it keeps current). Anything else belongs to the API.
const std::set<std::string, std::less<>>& WritableColumns() {
  static const auto* cols = new std::set<std::string, std::less<>>{
      "container_id",  "status",         "status_reason", "status_detail",
      "task_state",    "host",           "addresses",     "cni_metadata",
      "image_driver",  "started_at",     "cpuset",        "disk",
      "websocket_url", "websocket_token"};
  return *cols;
}

const std::set<std::string, std::less<>>& JsonColumns() {
  static const auto* cols = new std::set<std::string, std::less<>>{
      "addresses",     "cni_metadata", "annotations",    "healthcheck",
      "exposed_ports", "cpuset",       "command",        "environment",
      "ports",         "labels",       "restart_policy", "security_groups",
      "entrypoint"};
  return *cols;
}

}  // namespace

bool IsWritableColumn(std::string_view column) {
  return WritableColumns().count(column) > 0;
}

bool IsJsonColumn(std::string_view column) {
  return JsonColumns().count(column) > 0;
}

void ApplyPatchTo(const RowPatch& patch, capsule::ContainerRecord& r) {
  for (const auto& [col, v] : patch.values()) {
    auto str = [&v]() -> std::optional<std::string> {
      if (v.is_null()) return std::nullopt;
      return v.is_string() ? v.get<std::string>() : v.dump();
    };
    if (col == "container_id") r.container_id = str();
    if (col == "status") r.status = str();
    if (col == "status_reason") r.status_reason = str();
    if (col == "status_detail") r.status_detail = str();
    if (col == "task_state") r.task_state = str();
    if (col == "host") r.host = str();
    if (col == "image_driver") r.image_driver = str();
    if (col == "websocket_url") r.websocket_url = str();
    if (col == "websocket_token") r.websocket_token = str();
    if (col == "addresses") r.addresses = v;
    if (col == "cni_metadata") r.cni_metadata = v;
    if (col == "cpuset") r.cpuset = v;
    if (col == "disk") {
      r.disk = v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>())
                                     : std::nullopt;
    }
    if (col == "started_at") {
      absl::Time t;
      std::string err;
      if (v.is_string() &&
          absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", v.get<std::string>(),
                          absl::UTCTimeZone(), &t, &err)) {
        r.started_at = t;
      } else {
        r.started_at = std::nullopt;
      }
    }
  }
  if (patch.clear_task_state_if() &&
      r.task_state == *patch.clear_task_state_if()) {
    r.task_state = std::nullopt;
  }
}

RowPatch& RowPatch::Set(std::string_view column, nlohmann::json value) {
  values_[std::string(column)] = std::move(value);
  return *this;
}

RowPatch& RowPatch::ClearTaskStateIf(std::string_view expected) {
  clear_task_state_if_ = std::string(expected);
  return *this;
}

absl::StatusOr<CapsuleStore::Claimed> CapsuleStore::ClaimCapsuleWithAction(
    std::string_view uuid, std::string_view host, std::string_view task_state,
    std::string_view action, std::string_view event, const ActionContext& ctx) {
  absl::StatusOr<capsule::Capsule> c = ClaimCapsule(uuid, host, task_state);
  if (!c.ok()) return c.status();
  Claimed out{*std::move(c), std::nullopt};
  absl::StatusOr<int64_t> id = StartAction(uuid, action, event, ctx);
  if (id.ok()) out.event_id = *id;
  return out;
}

absl::Status CapsuleStore::ApplyAndFinishAction(
    const std::vector<RowPatch>& patches, int64_t event_id, bool success,
    std::string_view message) {
  if (absl::Status s = Apply(patches); !s.ok()) return s;
  return FinishAction(event_id, success, message);
}

std::string VersionOf(const capsule::ContainerRecord& r) {
  return absl::StrCat(
      r.updated_at ? absl::StrCat(absl::ToUnixMicros(*r.updated_at)) : "", "|",
      r.task_state.value_or(""), "|", r.status.value_or(""));
}

absl::StatusOr<std::map<std::string, std::string>>
CapsuleStore::CapsuleVersions(std::string_view host) {
  absl::StatusOr<std::vector<capsule::Capsule>> all = ListCapsules(host);
  if (!all.ok()) return all.status();
  std::map<std::string, std::string> out;
  for (const capsule::Capsule& c : *all) out[c.uuid()] = VersionOf(c.record);
  return out;
}

}  // namespace zun::db
