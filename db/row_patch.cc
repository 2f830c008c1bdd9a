#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "db/capsule_store.h"
#include "db/container_fields.h"

namespace zun::db {
namespace {

// Sets `member` from a column value as the database returns it.
struct FromColumn {
  const nlohmann::json& v;
  std::optional<std::string> Text() const {
    if (v.is_null()) return std::nullopt;
    return v.is_string() ? v.get<std::string>() : v.dump();
  }
  void operator()(std::optional<std::string>& m) const { m = Text(); }
  void operator()(std::string& m) const { m = Text().value_or(""); }
  void operator()(nlohmann::json& m) const { m = v; }
  void operator()(std::optional<int64_t>& m) const {
    m = v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>())
                              : std::nullopt;
  }
  void operator()(std::optional<double>& m) const {
    m = v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
  }
  void operator()(std::optional<absl::Time>& m) const {
    m = v.is_string() ? ParseDbTime(v.get<std::string>()) : std::nullopt;
  }
  // Fields the agent never writes.
  template <typename T>
  void operator()(T&) const {}
};

}  // namespace

bool IsWritableColumn(std::string_view column) {
  const Field* f = FindField(column);
  return f != nullptr && f->agent_writes;
}

bool IsJsonColumn(std::string_view column) {
  const Field* f = FindField(column);
  return f != nullptr && f->json_text;
}

void ApplyPatchTo(const RowPatch& patch, capsule::ContainerRecord& r) {
  for (const auto& [col, v] : patch.values()) {
    const Field* f = FindField(col);
    if (f == nullptr || !f->agent_writes) continue;
    VisitField(*f, r, FromColumn{v});
  }
  if (patch.clear_task_state_if() &&
      r.task_state == *patch.clear_task_state_if()) {
    r.task_state = std::nullopt;
  }
}

namespace {
nlohmann::json OrNull(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}
}  // namespace

RowPatch& RowPatch::Column(std::string_view column, nlohmann::json value) {
  values_[std::string(column)] = std::move(value);
  return *this;
}

RowPatch& RowPatch::Status(std::string_view status) {
  return Column("status", std::string(status));
}
RowPatch& RowPatch::StatusReason(std::optional<std::string> reason) {
  return Column("status_reason", OrNull(reason));
}
RowPatch& RowPatch::StatusDetail(std::optional<std::string> detail) {
  return Column("status_detail", OrNull(detail));
}
RowPatch& RowPatch::ContainerId(std::optional<std::string> id) {
  return Column("container_id", OrNull(id));
}
RowPatch& RowPatch::Addresses(nlohmann::json addresses) {
  return Column("addresses", std::move(addresses));
}
RowPatch& RowPatch::CniMetadata(nlohmann::json metadata) {
  return Column("cni_metadata", std::move(metadata));
}
RowPatch& RowPatch::StartedAt(absl::Time at) {
  return Column("started_at", FormatDbTime(at));
}
RowPatch& RowPatch::Host(std::string host) {
  return Column("host", std::move(host));
}

RowPatch& RowPatch::ClearTaskStateIf(std::string_view expected) {
  clear_task_state_if_ = std::string(expected);
  return *this;
}

std::optional<absl::Time> ParseDbTime(const std::string& text) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &t,
                      &err)) {
    return t;
  }
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*S", text, absl::UTCTimeZone(), &t,
                      &err)) {
    return t;
  }
  return std::nullopt;
}

std::string FormatDbTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, absl::UTCTimeZone());
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

absl::StatusOr<std::vector<capsule::Capsule>> CapsuleStore::LoadCapsules(
    const std::vector<std::string>& uuids) {
  std::vector<capsule::Capsule> out;
  for (const std::string& uuid : uuids) {
    absl::StatusOr<capsule::Capsule> c = LoadCapsule(uuid);
    if (c.ok()) {
      out.push_back(*std::move(c));
    } else if (c.status().code() != absl::StatusCode::kNotFound) {
      return c.status();
    }
  }
  return out;
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
