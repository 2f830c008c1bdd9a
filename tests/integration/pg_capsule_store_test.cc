// PgCapsuleStore held to the CapsuleStore conformance suite, on a scratch
// database with Zun's full schema (db-sync), capsules inserted as zun-api
// inserts them (db::ApiStore).
#include "db/pg_capsule_store.h"

#include <catch2/catch.hpp>
#include <set>

#include "common/uuid.h"
#include "db/api_store.h"
#include "db/row_patch.h"
#include "tests/support/capsule_store_conformance.h"
#include "tests/support/scratch_db.h"

namespace zun::testing {
namespace {

TEST_CASE("CapsuleStore conformance: PgCapsuleStore") {
  ScratchDatabase db;
  db::PgCapsuleStore store(db.options());
  db::ApiStore api(db.options());
  StoreTarget t;
  t.store = &store;
  t.create = [&](const capsule::Capsule& c) {
    absl::StatusOr<capsule::Capsule> stored = api.CreateCapsule(c);
    REQUIRE(stored.ok());
    return *stored;
  };
  RunCapsuleStoreConformance(t);
}

capsule::Capsule TwoChildren(const std::string& name) {
  capsule::Capsule c;
  c.record.uuid = NewUuid4();
  c.record.name = name;
  c.record.status = "Creating";
  c.record.project_id = "p";
  c.record.user_id = "u";
  for (const char* child : {"a", "b"}) {
    capsule::ContainerRecord k;
    k.uuid = NewUuid4();
    k.name = child;
    k.status = "Creating";
    k.container_type = capsule::ContainerType::kCapsuleContainer;
    c.containers.push_back(k);
  }
  return c;
}

TEST_CASE("a loaded capsule brings its children's volumes and registries") {
  ScratchDatabase db;
  db::PgCapsuleStore store(db.options());
  db::ApiStore api(db.options());
  capsule::Capsule c = TwoChildren("mounts");
  absl::StatusOr<int64_t> reg =
      api.CreateRegistry("registry.example", "tenant", "token");
  REQUIRE(reg.ok());
  c.containers[1].registry_id = *reg;
  absl::StatusOr<capsule::Capsule> stored = api.CreateCapsule(c);
  REQUIRE(stored.ok());
  absl::StatusOr<std::string> vol =
      api.AddLocalVolume(stored->containers[0].uuid, "/data", true, "p");
  REQUIRE(vol.ok());

  absl::StatusOr<capsule::Capsule> loaded = store.LoadCapsule(c.uuid());
  REQUIRE(loaded.ok());
  REQUIRE(loaded->containers.size() == 2);
  REQUIRE(loaded->containers[0].volumes.size() == 1);
  CHECK(loaded->containers[0].volumes[0].volume_uuid == *vol);
  CHECK(loaded->containers[0].volumes[0].container_path == "/data");
  CHECK(loaded->containers[0].volumes[0].read_only);
  CHECK(loaded->containers[0].volumes[0].provider == "local");
  CHECK(loaded->containers[1].volumes.empty());
  REQUIRE(loaded->registries.count(*reg) == 1);
  CHECK(loaded->registries.at(*reg).domain == "registry.example");
  CHECK(loaded->registries.at(*reg).username == "tenant");
  // A capsule's children are not capsules: loading one by its uuid is
  // NOT_FOUND.
  CHECK(store.LoadCapsule(loaded->containers[0].uuid).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("capsules load in batches, every one of a list longer than one") {
  ScratchDatabase db;
  db::PgCapsuleStore store(db.options());
  db::ApiStore api(db.options());
  std::vector<std::string> uuids;
  for (int i = 0; i < 501; ++i) {  // two batches of 500 and 1
    absl::StatusOr<capsule::Capsule> stored =
        api.CreateCapsule(TwoChildren("batch-" + std::to_string(i)));
    REQUIRE(stored.ok());
    uuids.push_back(stored->uuid());
  }
  absl::StatusOr<std::vector<capsule::Capsule>> all = store.LoadCapsules(uuids);
  REQUIRE(all.ok());
  REQUIRE(all->size() == uuids.size());
  std::set<std::string> seen;
  for (const capsule::Capsule& c : *all) {
    seen.insert(c.uuid());
    CHECK(c.containers.size() == 2);
  }
  CHECK(seen == std::set<std::string>(uuids.begin(), uuids.end()));
}

// The claim and the action's start are one statement, and so are a
// create's last writes and its event's finish: what they write, row by row.
TEST_CASE("a claim with its action, and writes merged with an event's end") {
  ScratchDatabase db;
  db::PgCapsuleStore store(db.options());
  db::ApiStore api(db.options());
  absl::StatusOr<capsule::Capsule> c = api.CreateCapsule(TwoChildren("m"));
  REQUIRE(c.ok());
  const std::string uuid = c->uuid();
  auto actions = [&] {
    return db.Query(
        "SELECT id, request_id, message FROM container_actions "
        "WHERE container_uuid = '" +
        uuid + "' ORDER BY id");
  };
  auto events = [&] {
    return db.Query(
        "SELECT e.id, e.event, e.result, e.finish_time FROM "
        "container_actions_events e JOIN container_actions a ON e.action_id = "
        "a.id WHERE a.container_uuid = '" +
        uuid + "' ORDER BY e.id");
  };
  // The API recorded the request's action: the claim's event joins it.
  REQUIRE(api.RecordAction(uuid, "create", "req-m", "u", "p").ok());
  // A claim refused (another host holds the capsule) writes nothing.
  REQUIRE(store.ClaimCapsule(uuid, "host-b", "creating").ok());
  CHECK(store
            .ClaimCapsuleWithAction(uuid, "host-a", "creating", "create", "ev",
                                    db::ActionContext{"req-m", "u", "p"})
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK(events().empty());
  db.Exec("UPDATE container SET host = NULL WHERE uuid = '" + uuid + "'");

  auto claimed = store.ClaimCapsuleWithAction(
      uuid, "host-a", "creating", "create", "compute__do_container_create",
      db::ActionContext{"req-m", "u", "p"});
  REQUIRE(claimed.ok());
  CHECK(claimed->capsule.record.host == "host-a");
  CHECK(claimed->capsule.record.task_state == "creating");
  CHECK(claimed->capsule.containers.size() == 2);
  REQUIRE(claimed->event_id.has_value());
  REQUIRE(actions().size() == 1);  // the API's row, reused
  auto ev = events();
  REQUIRE(ev.size() == 1);
  CHECK(std::stoll(*ev[0]["id"]) == *claimed->event_id);
  CHECK(ev[0]["event"] == "compute__do_container_create");
  CHECK_FALSE(ev[0]["finish_time"].has_value());

  // The create's last write: capsule and children, and the event's end.
  std::vector<db::RowPatch> patches;
  patches.push_back(std::move(
      db::RowPatch(uuid).Status("Running").ClearTaskStateIf("creating")));
  for (const auto& k : claimed->capsule.containers) {
    patches.push_back(
        std::move(db::RowPatch(k.uuid).Status("Running").ContainerId("c")));
  }
  REQUIRE(
      store.ApplyAndFinishAction(patches, *claimed->event_id, true, "").ok());
  auto after = store.LoadCapsule(uuid);
  REQUIRE(after.ok());
  CHECK(after->record.status == "Running");
  CHECK_FALSE(after->record.task_state.has_value());
  for (const auto& k : after->containers) {
    CHECK(k.status == "Running");
    CHECK(k.container_id == "c");
  }
  ev = events();
  CHECK(ev[0]["result"] == "Success");
  CHECK(ev[0]["finish_time"].has_value());

  // A failure marks the action; a row patched twice in one write gets both
  // changes (they cannot share one statement).
  auto second = store.StartAction(uuid, "create", "again",
                                  db::ActionContext{"req-m", "u", "p"});
  REQUIRE(second.ok());
  std::vector<db::RowPatch> twice;
  twice.push_back(std::move(db::RowPatch(uuid).Status("Error")));
  twice.push_back(std::move(db::RowPatch(uuid).StatusReason("it broke")));
  REQUIRE(store.ApplyAndFinishAction(twice, *second, false, "it broke").ok());
  after = store.LoadCapsule(uuid);
  CHECK(after->record.status == "Error");
  CHECK(after->record.status_reason == "it broke");
  CHECK(actions()[0]["message"] == "Error");
  ev = events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[1]["result"] == "Error");
}

}  // namespace
}  // namespace zun::testing
