#include "tests/support/capsule_store_conformance.h"

#include <catch2/catch.hpp>
#include <map>

#include "common/uuid.h"

namespace zun::db {
// Writes a raw column, to check that the stores refuse what the typed
// setters cannot express.
struct RowPatchTestPeer {
  static void SetColumn(RowPatch& p, std::string_view column,
                        nlohmann::json value) {
    p.Column(column, std::move(value));
  }
};
}  // namespace zun::db

namespace zun::testing {
namespace {

using capsule::Capsule;
using capsule::ContainerRecord;
using capsule::ContainerType;

ContainerRecord Child(const std::string& name, ContainerType type) {
  ContainerRecord k;
  k.uuid = NewUuid4();
  k.name = name;
  k.container_type = type;
  k.status = "Creating";
  k.project_id = "p";
  k.user_id = "u";
  k.image = "busybox";
  k.command = {"sleep", "3600"};
  return k;
}

Capsule NewCapsule(const std::string& name) {
  Capsule c;
  c.record.uuid = NewUuid4();
  c.record.name = name;
  c.record.status = "Creating";
  c.record.project_id = "p";
  c.record.user_id = "u";
  c.record.restart_policy = {{"Name", "always"}, {"MaximumRetryCount", "0"}};
  c.init_containers.push_back(
      Child("init", ContainerType::kCapsuleInitContainer));
  c.containers.push_back(Child("a", ContainerType::kCapsuleContainer));
  c.containers.push_back(Child("b", ContainerType::kCapsuleContainer));
  return c;
}

void LoadAndList(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  CHECK(s.LoadCapsule(NewUuid4()).status().code() ==
        absl::StatusCode::kNotFound);
  const Capsule c = t.create(NewCapsule("load"));
  auto loaded = s.LoadCapsule(c.uuid());
  REQUIRE(loaded.ok());
  CHECK(loaded->record.name == "load");
  CHECK(loaded->record.status == "Creating");
  CHECK_FALSE(loaded->record.host.has_value());
  REQUIRE(loaded->init_containers.size() == 1);
  REQUIRE(loaded->containers.size() == 2);
  CHECK(loaded->containers[0].name == "a");  // in order
  CHECK(loaded->containers[1].name == "b");
  CHECK(loaded->init_containers[0].name == "init");
  // Not claimed: on no host's list.
  auto none = s.ListCapsules("conformance-host");
  REQUIRE(none.ok());
  for (const Capsule& x : *none) CHECK(x.uuid() != c.uuid());
  CHECK(s.Ping().ok());
}

void LoadMany(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  const Capsule a = t.create(NewCapsule("many-a"));
  const Capsule b = t.create(NewCapsule("many-b"));
  auto none = s.LoadCapsules({});
  REQUIRE(none.ok());
  CHECK(none->empty());
  // Absent uuids are left out, one that no uuid could be (quotes, a comma,
  // braces, a backslash) included.
  auto got = s.LoadCapsules({a.uuid(), NewUuid4(), "x\",}{\\y", b.uuid()});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  std::map<std::string, Capsule> by_uuid;
  for (const Capsule& c : *got) by_uuid[c.uuid()] = c;
  REQUIRE(by_uuid.count(a.uuid()) == 1);
  REQUIRE(by_uuid.count(b.uuid()) == 1);
  CHECK(by_uuid[b.uuid()].record.name == "many-b");
  REQUIRE(by_uuid[a.uuid()].containers.size() == 2);
  CHECK(by_uuid[a.uuid()].containers[0].name == "a");  // in order
  CHECK(by_uuid[a.uuid()].containers[1].name == "b");
  REQUIRE(by_uuid[a.uuid()].init_containers.size() == 1);
  // A child's uuid is no capsule.
  auto child = s.LoadCapsules({a.containers[0].uuid});
  REQUIRE(child.ok());
  CHECK(child->empty());
}

void Claims(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  const Capsule c = t.create(NewCapsule("claim"));
  const std::string host = "host-" + NewUuid4Hex().substr(0, 8);
  auto claimed = s.ClaimCapsule(c.uuid(), host, "creating");
  REQUIRE(claimed.ok());
  CHECK(claimed->record.host == host);
  CHECK(claimed->record.task_state == "creating");
  CHECK(claimed->containers.size() == 2);
  auto again = s.ClaimCapsule(c.uuid(), host, "creating");  // idempotent
  REQUIRE(again.ok());
  CHECK(again->record.host == host);
  CHECK(s.ClaimCapsule(c.uuid(), "other-host", "creating").status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(s.ClaimCapsule(NewUuid4(), host, "creating").status().code() ==
        absl::StatusCode::kNotFound);
  auto listed = s.ListCapsules(host);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().uuid() == c.uuid());
  CHECK(listed->front().containers.size() == 2);

  const Capsule d = t.create(NewCapsule("claim-action"));
  auto with = s.ClaimCapsuleWithAction(d.uuid(), host, "creating", "create",
                                       "compute__do_container_create",
                                       db::ActionContext{"req-c", "u", "p"});
  REQUIRE(with.ok());
  CHECK(with->capsule.record.host == host);
  REQUIRE(with->event_id.has_value());
  CHECK(s.FinishAction(*with->event_id, true, "").ok());
  CHECK(s.ClaimCapsuleWithAction(d.uuid(), "other-host", "creating", "create",
                                 "ev", db::ActionContext{})
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK(s.ListCapsules(host)->size() == 2);
}

void Patches(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  const Capsule c = t.create(NewCapsule("patch"));
  const std::string host = "host-" + NewUuid4Hex().substr(0, 8);
  REQUIRE(s.ClaimCapsule(c.uuid(), host, "creating").ok());
  auto v0 = s.CapsuleVersions(host);
  REQUIRE(v0.ok());
  REQUIRE(v0->count(c.uuid()) == 1);

  // Times keep their microseconds; JSON columns keep their structure.
  const absl::Time started =
      absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  const nlohmann::json addresses = {
      {"net", {{{"addr", "127.88.0.5"}, {"version", 4}}}}};
  std::vector<db::RowPatch> patches;
  patches.push_back(std::move(db::RowPatch(c.uuid())
                                  .Status("Running")
                                  .StartedAt(started)
                                  .Addresses(addresses)
                                  .StatusReason(std::nullopt)
                                  .ClearTaskStateIf("creating")));
  patches.push_back(std::move(db::RowPatch(c.containers[0].uuid)
                                  .Status("Running")
                                  .ContainerId("cid-a")));
  patches.push_back(
      std::move(db::RowPatch(NewUuid4()).Status("Running")));  // gone
  REQUIRE(s.Apply(patches).ok());
  auto after = s.LoadCapsule(c.uuid());
  REQUIRE(after.ok());
  CHECK(after->record.status == "Running");
  CHECK(after->record.started_at == started);
  CHECK(after->record.addresses == addresses);
  CHECK_FALSE(after->record.task_state.has_value());
  CHECK(after->containers[0].status == "Running");
  CHECK(after->containers[0].container_id == "cid-a");
  CHECK(after->containers[1].status == "Creating");
  auto v1 = s.CapsuleVersions(host);
  REQUIRE(v1.ok());
  CHECK(v1->at(c.uuid()) != v0->at(c.uuid()));

  // task_state is cleared only if it still is what the agent set.
  const Capsule d = t.create(NewCapsule("patch-deleting"));
  REQUIRE(s.ClaimCapsule(d.uuid(), host, "container_deleting").ok());
  std::vector<db::RowPatch> keep;
  keep.push_back(std::move(
      db::RowPatch(d.uuid()).Status("Running").ClearTaskStateIf("creating")));
  REQUIRE(s.Apply(keep).ok());
  CHECK(s.LoadCapsule(d.uuid())->record.task_state == "container_deleting");

  // Columns the agent does not own are refused.
  std::vector<db::RowPatch> bad;
  db::RowPatch not_ours(c.uuid());
  db::RowPatchTestPeer::SetColumn(not_ours, "project_id", "x");
  bad.push_back(std::move(not_ours));
  CHECK(s.Apply(bad).code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.LoadCapsule(c.uuid())->record.project_id == "p");
}

void Deletes(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  const Capsule c = t.create(NewCapsule("delete"));
  REQUIRE(s.DeleteCapsule(c.uuid()).ok());
  CHECK(s.LoadCapsule(c.uuid()).status().code() == absl::StatusCode::kNotFound);
  auto brief = s.BriefContainers({c.uuid(), c.containers[0].uuid});
  REQUIRE(brief.ok());
  CHECK(brief->empty());                  // the children went with it
  CHECK(s.DeleteCapsule(c.uuid()).ok());  // idempotent
}

void Actions(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  const Capsule c = t.create(NewCapsule("action"));
  const db::ActionContext ctx{"req-a", "u", "p"};
  auto ev =
      s.StartAction(c.uuid(), "create", "compute__do_container_create", ctx);
  REQUIRE(ev.ok());
  auto ev2 = s.StartAction(c.uuid(), "create", "second_event", ctx);
  REQUIRE(ev2.ok());
  CHECK(*ev2 != *ev);
  CHECK(s.FinishAction(*ev, false, "it failed").ok());
  std::vector<db::RowPatch> patches;
  patches.push_back(std::move(db::RowPatch(c.uuid()).Status("Error")));
  CHECK(s.ApplyAndFinishAction(patches, *ev2, true, "").ok());
  CHECK(s.LoadCapsule(c.uuid())->record.status == "Error");
}

void Node(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  const std::string host = "node-" + NewUuid4Hex().substr(0, 8);
  auto first = s.ReportService(host, "nova");
  REQUIRE(first.ok());
  CHECK(first->host == host);
  CHECK(first->binary == "zun-compute");
  CHECK_FALSE(first->disabled);
  auto second = s.ReportService(host, "nova");
  REQUIRE(second.ok());
  CHECK(second->id == first->id);
  CHECK(second->report_count == first->report_count + 1);
  REQUIRE(second->last_seen_up.has_value());
  CHECK(second->availability_zone == "nova");

  db::ComputeNodeRecord node;
  node.hostname = host;
  node.numa_topology = {{"nodes", nlohmann::json::array()}};
  node.mem_total = 1024;
  node.cpus = 2;
  node.pci_stats = "{}";
  auto ids = s.UpsertComputeNode(node);
  REQUIRE(ids.ok());
  CHECK_FALSE(ids->uuid.empty());
  CHECK(ids->rp_uuid == ids->uuid);  // first insert
  node.mem_total = 2048;
  auto again = s.UpsertComputeNode(node);
  REQUIRE(again.ok());
  CHECK(again->uuid == ids->uuid);
  CHECK(again->rp_uuid == ids->rp_uuid);  // kept
}

void Briefs(const StoreTarget& t) {
  db::CapsuleStore& s = *t.store;
  const Capsule c = t.create(NewCapsule("brief"));
  const std::string host = "host-" + NewUuid4Hex().substr(0, 8);
  REQUIRE(s.ClaimCapsule(c.uuid(), host, "creating").ok());
  auto brief = s.BriefContainers({c.uuid(), c.containers[1].uuid, NewUuid4()});
  REQUIRE(brief.ok());
  REQUIRE(brief->size() == 2);
  CHECK(brief->at(c.uuid()).container_type == 1);
  CHECK(brief->at(c.uuid()).host == host);
  CHECK(brief->at(c.uuid()).task_state == "creating");
  CHECK(brief->at(c.containers[1].uuid).container_type == 2);
  CHECK(brief->at(c.containers[1].uuid).status == "Creating");
}

}  // namespace

void RunCapsuleStoreConformance(const StoreTarget& t) {
  REQUIRE(t.store != nullptr);
  {
    INFO("load and list");
    LoadAndList(t);
  }
  {
    INFO("loads of many");
    LoadMany(t);
  }
  {
    INFO("claims");
    Claims(t);
  }
  {
    INFO("row patches");
    Patches(t);
  }
  {
    INFO("deletes");
    Deletes(t);
  }
  {
    INFO("actions");
    Actions(t);
  }
  {
    INFO("service and compute node");
    Node(t);
  }
  {
    INFO("briefs");
    Briefs(t);
  }
}

}  // namespace zun::testing
