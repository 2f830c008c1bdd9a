// The one description of a container row (db/container_fields.h) and the codecs
// that walk it: every member is described once, the agent's columns are
// exactly those the typed RowPatch writes, and a record survives the oslo
// object and the in-memory patch unchanged.
#include <catch2/catch.hpp>
#include <set>

#include "db/container_fields.h"
#include "db/row_patch.h"
#include "rpc/zun_object.h"

namespace zun::db {
namespace {

using capsule::Capsule;

// A record with every field set to something other than its default.
ContainerRecord FullRecord(ContainerType type) {
  ContainerRecord r;
  r.id = 42;
  r.container_type = type;
  r.capsule_id = 7;
  r.uuid = "5f1a1bd0-0e1c-4b3e-9d55-2a3c0b3f4a11";
  r.container_id = "cid";
  r.name = "web";
  r.project_id = "p";
  r.user_id = "u";
  r.image = "busybox";
  r.cpu = 0.5;
  r.cpu_policy = "shared";
  r.memory = "128";
  r.command = {"sh", "-c", "sleep 1"};
  r.entrypoint = {"/bin/sh"};
  r.status = "Running";
  r.status_reason = "why";
  r.status_detail = "detail";
  r.task_state = "container_creating";
  r.environment = {{"A", "1"}};
  r.workdir = "/w";
  r.ports = {80, 443};
  r.hostname = "h";
  r.labels = {{"app", "x"}};
  r.image_pull_policy = "IfNotPresent";
  r.host = "node-1";
  r.restart_policy = {{"Name", "always"}, {"MaximumRetryCount", "0"}};
  r.interactive = true;
  r.tty = true;
  r.privileged = true;
  r.auto_remove = true;
  r.auto_heal = true;
  r.image_driver = "docker";
  r.websocket_url = "ws://127.0.0.1/";
  r.websocket_token = "t";
  r.security_groups = {"default"};
  r.runtime = "runc";
  r.disk = 10;
  r.registry_id = 3;
  r.addresses = {{"net", {{{"addr", "127.88.0.2"}, {"version", 4}}}}};
  r.exposed_ports = {{"80/tcp", nlohmann::json::object()}};
  r.healthcheck = {{"test", "true"}};
  r.annotations = {{"k", "v"}};
  r.cni_metadata = {{"vif", "x"}};
  r.cpuset = {{"cpuset_cpus", {0, 1}}, {"cpuset_mems", {0}}};
  r.started_at = absl::FromUnixSeconds(1790000000);
  r.created_at = absl::FromUnixSeconds(1790000001);
  r.updated_at = absl::FromUnixSeconds(1790000002);
  return r;
}

// Field-by-field equality through the table itself (a member the table
// left out would compare equal here but be caught by the count check).
bool SameFields(const ContainerRecord& a, const ContainerRecord& b,
                std::string* differs) {
  for (const Field& f : ContainerFields()) {
    const bool same = std::visit(
        [&](auto member) { return a.*member == b.*member; }, f.member);
    if (!same) {
      *differs = std::string(f.name);
      return false;
    }
  }
  return true;
}

TEST_CASE("every field of a container row is described once") {
  std::set<std::string_view> names;
  for (const Field& f : ContainerFields()) {
    CHECK(names.insert(f.name).second);
    CHECK(FindField(f.name) == &f);
  }
  // The 47 columns the agent reads (volumes is not a column).
  CHECK(names.size() == 47);
  CHECK(FindField("no_such_column") == nullptr);
}

TEST_CASE("the agent writes exactly the columns zun-compute writes") {
  std::set<std::string_view> writable;
  for (const Field& f : ContainerFields()) {
    if (f.agent_writes) writable.insert(f.name);
  }
  CHECK(writable == std::set<std::string_view>{
                        "container_id", "status", "status_reason",
                        "status_detail", "task_state", "host", "addresses",
                        "cni_metadata", "image_driver", "started_at", "cpuset",
                        "disk", "websocket_url", "websocket_token"});
  CHECK(db::IsWritableColumn("status"));
  CHECK_FALSE(db::IsWritableColumn("project_id"));
  CHECK(db::IsJsonColumn("addresses"));
  CHECK_FALSE(db::IsJsonColumn("status"));
}

TEST_CASE("a record survives the oslo object, every field of it") {
  for (ContainerType type :
       {ContainerType::kCapsule, ContainerType::kCapsuleContainer,
        ContainerType::kCapsuleInitContainer}) {
    Capsule c;
    c.record = FullRecord(ContainerType::kCapsule);
    c.record.capsule_id.reset();  // not an object field of a capsule
    ContainerRecord child = FullRecord(type);
    if (type != ContainerType::kCapsule) c.containers.push_back(child);
    absl::StatusOr<Capsule> back = rpc::DecodeCapsule(
        nlohmann::json::parse(rpc::EncodeCapsule(c, "1.0").dump()));
    REQUIRE(back.ok());
    std::string differs;
    CHECK(SameFields(back->record, c.record, &differs));
    INFO(differs);
    if (type != ContainerType::kCapsule) {
      REQUIRE(back->containers.size() == 1);
      CHECK(SameFields(back->containers[0], child, &differs));
      INFO(differs);
    }
  }
}

TEST_CASE("typed row writes land in the record as the database keeps them") {
  ContainerRecord r = FullRecord(ContainerType::kCapsule);
  const absl::Time at = absl::FromUnixMicros(1790000000123456);
  db::RowPatch p(r.uuid);
  p.Status("Error")
      .StatusReason(std::nullopt)
      .StatusDetail("d2")
      .ContainerId(std::nullopt)
      .Addresses(nlohmann::json::object())
      .CniMetadata(nullptr)
      .StartedAt(at)
      .Host("node-2")
      .ClearTaskStateIf("container_creating");
  for (const auto& [column, value] : p.values()) {
    INFO(column);
    CHECK(db::IsWritableColumn(column));
  }
  db::ApplyPatchTo(p, r);
  CHECK(r.status == "Error");
  CHECK_FALSE(r.status_reason.has_value());
  CHECK(r.status_detail == "d2");
  CHECK_FALSE(r.container_id.has_value());
  CHECK(r.addresses == nlohmann::json::object());
  CHECK(r.cni_metadata.is_null());
  CHECK(r.started_at == at);  // microseconds kept
  CHECK(r.host == "node-2");
  CHECK_FALSE(r.task_state.has_value());
  CHECK(db::FormatDbTime(at) == "2026-09-21 14:13:20.123456");
  CHECK(db::ParseDbTime("2026-09-21 14:13:20.123456") == at);
}

}  // namespace
}  // namespace zun::db
