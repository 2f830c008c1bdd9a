// Loading capsules with their children, volumes and registries (internal to
// db/, declared in pg_internal.h).
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "db/pg_internal.h"
#include "db/row_codec.h"

namespace zun::db::internal {
namespace {

using capsule::Capsule;
using capsule::ContainerRecord;
using capsule::ContainerType;

// The mounts of `child_uuids`, by child uuid.
std::map<std::string, std::vector<capsule::VolumeMount>> VolumesOf(
    pqxx::transaction_base& t, const std::vector<std::string>& child_uuids) {
  pqxx::result vols =
      SqlParams()
          .Add(TextArray(child_uuids))
          .Exec(t,
                "SELECT vm.container_uuid, vm.container_path, vm.read_only, "
                "v.uuid, v.volume_provider FROM volume_mapping vm JOIN "
                "volume v ON vm.volume_id = v.id WHERE vm.container_uuid = "
                "ANY($1::varchar[]) ORDER BY vm.id");
  std::map<std::string, std::vector<capsule::VolumeMount>> by_child;
  for (const auto& row : vols) {
    capsule::VolumeMount m;
    m.container_path =
        row["container_path"].is_null() ? "" : row["container_path"].c_str();
    m.read_only = row["read_only"].as<bool>();
    m.volume_uuid = row["uuid"].c_str();
    m.provider = row["volume_provider"].c_str();
    by_child[row["container_uuid"].c_str()].push_back(std::move(m));
  }
  return by_child;
}

void AttachRegistries(pqxx::transaction_base& t, std::vector<Capsule>& out) {
  std::vector<std::string> registry_ids;
  for (const Capsule& c : out) {
    for (const auto* list : {&c.init_containers, &c.containers}) {
      for (const auto& child : *list) {
        if (child.registry_id) {
          registry_ids.push_back(std::to_string(*child.registry_id));
        }
      }
    }
  }
  if (registry_ids.empty()) return;
  pqxx::result regs =
      SqlParams()
          .Add(absl::StrCat("{", absl::StrJoin(registry_ids, ","), "}"))
          .Exec(t,
                "SELECT id, domain, username, password FROM registry WHERE id "
                "= ANY($1::int[])");
  std::map<int64_t, capsule::RegistryCredentials> creds;
  for (const auto& row : regs) {
    creds[row["id"].as<int64_t>()] = capsule::RegistryCredentials{
        row["domain"].is_null() ? "" : row["domain"].c_str(),
        row["username"].is_null() ? "" : row["username"].c_str(),
        row["password"].is_null() ? "" : row["password"].c_str()};
  }
  for (Capsule& c : out) {
    for (const auto* list : {&c.init_containers, &c.containers}) {
      for (const auto& child : *list) {
        if (child.registry_id && creds.count(*child.registry_id)) {
          c.registries[*child.registry_id] = creds[*child.registry_id];
        }
      }
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<Capsule>> AssembleCapsules(
    pqxx::transaction_base& t, const std::vector<const pqxx::result*>& parts,
    bool all_children_checked_for_volumes) {
  // Each row decoded once: capsule rows open a capsule, children (in id
  // order) join theirs by capsule_id.
  std::vector<Capsule> out;
  std::map<int64_t, size_t> by_id;
  std::vector<ContainerRecord> children;
  bool any_volume = !all_children_checked_for_volumes;
  for (const pqxx::result* part : parts) {
    for (const auto& row : *part) {
      absl::StatusOr<ContainerRecord> r = DecodeContainerRow(row);
      if (!r.ok()) return r.status();
      if (r->container_type == ContainerType::kCapsule) {
        by_id[r->id] = out.size();
        Capsule c;
        c.record = *std::move(r);
        out.push_back(std::move(c));
        continue;
      }
      if (all_children_checked_for_volumes) {
        auto flag = row.column_number("zun_has_volume");
        any_volume = any_volume || row[flag].as<bool>();
      }
      children.push_back(*std::move(r));
    }
  }
  std::vector<std::string> child_uuids;
  for (ContainerRecord& r : children) {
    auto it = by_id.find(r.capsule_id.value_or(-1));
    if (it == by_id.end()) continue;
    Capsule& c = out[it->second];
    child_uuids.push_back(r.uuid);
    if (r.container_type == ContainerType::kCapsuleInitContainer) {
      c.init_containers.push_back(std::move(r));
    } else if (r.container_type == ContainerType::kCapsuleContainer) {
      c.containers.push_back(std::move(r));
    }
  }
  if (any_volume && !child_uuids.empty()) {
    std::map<std::string, std::vector<capsule::VolumeMount>> vols =
        VolumesOf(t, child_uuids);
    for (Capsule& cap : out) {
      for (auto* list : {&cap.init_containers, &cap.containers}) {
        for (auto& child : *list) {
          auto it = vols.find(child.uuid);
          if (it != vols.end()) child.volumes = it->second;
        }
      }
    }
  }
  AttachRegistries(t, out);
  return out;
}

absl::StatusOr<std::vector<Capsule>> LoadWithChildren(
    pqxx::transaction_base& t, const pqxx::result& capsules) {
  std::vector<std::string> ids;
  for (const auto& row : capsules) ids.push_back(row["id"].c_str());
  pqxx::result children;
  if (!ids.empty()) {
    children = SqlParams()
                   .Add(absl::StrCat("{", absl::StrJoin(ids, ","), "}"))
                   .Exec(t, absl::StrCat("SELECT ", ContainerColumns(),
                                         " FROM container WHERE capsule_id = "
                                         "ANY($1::int[]) AND container_type "
                                         "IN (2, 3) ORDER BY id"));
  }
  return AssembleCapsules(t, {&capsules, &children}, false);
}

}  // namespace zun::db::internal
