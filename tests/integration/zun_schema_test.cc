// db-sync against Zun's own schema: every table and column of Zun's
// migration chain at its head (tests/data/zun_schema_columns.txt, derived
// from openstack/zun's alembic revisions), Zun's foreign keys and ON DELETE
// actions, alembic_version; db-sync over a database that holds Zun's tables
// already, refusal of one at another revision; and a capsule delete that
// works without any cascade.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "db/api_store.h"
#include "db/pg_capsule_store.h"
#include "db/schema.h"
#include "tests/support/scratch_db.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

// table \t column \t type \t nullable, as in the data file.
std::set<std::string> ExpectedColumns() {
  std::ifstream in(std::string(ZUN_TEST_DATA_DIR) + "/zun_schema_columns.txt");
  REQUIRE(in.good());
  std::set<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line);
  }
  return out;
}

std::set<std::string> ActualColumns(const ScratchDatabase& db) {
  std::set<std::string> out;
  for (const SqlRow& r : db.Query(
           "SELECT table_name, column_name, data_type, "
           "character_maximum_length, is_nullable FROM "
           "information_schema.columns WHERE table_schema = current_schema() "
           "AND table_name <> 'zun_agent_schema_version'")) {
    std::string type = r.at("data_type").value_or("");
    if (r.at("character_maximum_length")) {
      type = absl::StrCat(type, "(", *r.at("character_maximum_length"), ")");
    }
    out.insert(absl::StrCat(*r.at("table_name"), "\t", *r.at("column_name"),
                            "\t", type, "\t", *r.at("is_nullable")));
  }
  return out;
}

// "table.column -> table.column ON DELETE x" for every foreign key.
std::set<std::string> ForeignKeys(const ScratchDatabase& db) {
  std::set<std::string> out;
  for (const SqlRow& r :
       db.Query("SELECT c.conrelid::regclass AS tbl, a.attname AS col, "
                "c.confrelid::regclass AS ref, af.attname AS refcol, "
                "c.confdeltype AS del FROM pg_constraint c "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = "
                "c.conkey[1] JOIN pg_attribute af ON af.attrelid = c.confrelid "
                "AND af.attnum = c.confkey[1] WHERE c.contype = 'f'")) {
    const std::string del = *r.at("del") == "c" ? "CASCADE" : "NO ACTION";
    out.insert(absl::StrCat(*r.at("tbl"), ".", *r.at("col"), " -> ",
                            *r.at("ref"), ".", *r.at("refcol"), " ON DELETE ",
                            del));
  }
  return out;
}

const std::set<std::string> kZunForeignKeys = {
    "container.capsule_id -> container.id ON DELETE CASCADE",
    "container.registry_id -> registry.id ON DELETE NO ACTION",
    "container_actions.container_uuid -> container.uuid ON DELETE CASCADE",
    "container_actions_events.action_id -> container_actions.id ON DELETE "
    "CASCADE",
    "exec_instance.container_id -> container.id ON DELETE CASCADE",
    "pci_device.compute_node_uuid -> compute_node.uuid ON DELETE NO ACTION",
    "volume_mapping.container_uuid -> container.uuid ON DELETE NO ACTION",
    "volume_mapping.volume_id -> volume.id ON DELETE CASCADE",
};

// The one column the agent adds to Zun's tables.
const std::set<std::string> kAgentColumns = {
    "volume_mapping\tread_only\tboolean\tNO"};

TEST_CASE("db-sync creates Zun's schema at its head revision") {
  ScratchDatabase db;
  const std::set<std::string> want = ExpectedColumns();
  const std::set<std::string> have = ActualColumns(db);
  for (const std::string& col : want) {
    INFO("missing or different: " << col);
    CHECK(have.contains(col));
  }
  for (const std::string& col : have) {
    INFO("not in Zun's schema: " << col);
    CHECK((want.contains(col) || kAgentColumns.contains(col)));
  }
  CHECK(ForeignKeys(db) == kZunForeignKeys);
  auto rev = db.Query("SELECT version_num FROM alembic_version");
  REQUIRE(rev.size() == 1);
  CHECK(rev[0].at("version_num") == db::kZunAlembicRevision);
  // Every foreign key the agent follows is indexed (MySQL does it by
  // itself; PostgreSQL scans otherwise).
  for (const auto& [table, column] :
       std::vector<std::pair<std::string, std::string>>{
           {"container_actions_events", "action_id"},
           {"container_actions", "container_uuid"},
           {"volume_mapping", "container_uuid"},
           {"container", "capsule_id"}}) {
    CAPTURE(table, column);
    CHECK(db.Query("SELECT 1 FROM pg_indexes WHERE tablename = '" + table +
                   "' AND indexdef LIKE '%(" + column + ")'")
              .size() == 1);
  }
}

TEST_CASE("db-sync runs over a database that holds Zun's tables already") {
  ScratchDatabase db;
  db.Exec(
      "INSERT INTO container (uuid, name, container_type, status) VALUES "
      "('11111111-2222-3333-4444-555555555555', 'kept', 1, 'Running')");
  // As Zun's own migrations leave it: no bookkeeping of ours.
  db.Exec("DROP TABLE zun_agent_schema_version");
  absl::StatusOr<int> v = db::SyncSchema(db.options());
  REQUIRE(v.ok());
  CHECK(*v == db::LatestSchemaVersion());
  CHECK(db.Query("SELECT name FROM container")[0].at("name") == "kept");
  CHECK(db.Query("SELECT count(*) AS n FROM alembic_version")[0].at("n") ==
        "1");
  CHECK(ActualColumns(db).size() == ExpectedColumns().size() + 1);

  // Another Zun revision: Zun's migrations must run first.
  db.Exec("UPDATE alembic_version SET version_num = 'f979327df44b'");
  absl::StatusOr<int> refused = db::SyncSchema(db.options());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.status().message()),
             Catch::Contains("zun-db-manage upgrade"));
}

TEST_CASE("a capsule delete removes every dependant row without cascades") {
  ScratchDatabase db;
  // A database whose keys have no ON DELETE actions at all.
  db.Exec(
      "ALTER TABLE container DROP CONSTRAINT container_capsule_id_fkey; "
      "ALTER TABLE container ADD CONSTRAINT container_capsule_id_fkey "
      "FOREIGN KEY (capsule_id) REFERENCES container(id); "
      "ALTER TABLE container_actions DROP CONSTRAINT "
      "container_actions_container_uuid_fkey; "
      "ALTER TABLE container_actions ADD CONSTRAINT "
      "container_actions_container_uuid_fkey FOREIGN KEY (container_uuid) "
      "REFERENCES container(uuid); "
      "ALTER TABLE container_actions_events DROP CONSTRAINT "
      "container_actions_events_action_id_fkey; "
      "ALTER TABLE container_actions_events ADD CONSTRAINT "
      "container_actions_events_action_id_fkey FOREIGN KEY (action_id) "
      "REFERENCES container_actions(id); "
      "ALTER TABLE exec_instance DROP CONSTRAINT "
      "exec_instance_container_id_fkey; "
      "ALTER TABLE exec_instance ADD CONSTRAINT "
      "exec_instance_container_id_fkey FOREIGN KEY (container_id) "
      "REFERENCES container(id)");
  db::ApiStore api(db.options());
  capsule::Capsule c;
  c.record.uuid = "aaaaaaaa-0000-0000-0000-000000000001";
  c.record.name = "doomed";
  c.record.status = "Running";
  capsule::ContainerRecord init;
  init.uuid = "aaaaaaaa-0000-0000-0000-000000000002";
  init.image = "busybox";
  c.init_containers.push_back(init);
  capsule::ContainerRecord main;
  main.uuid = "aaaaaaaa-0000-0000-0000-000000000003";
  main.image = "busybox";
  c.containers.push_back(main);
  REQUIRE(api.CreateCapsule(c).ok());
  REQUIRE(api.CreateLocalVolume(
                 "p", {{main.uuid, "/data", false}, {init.uuid, "/data", true}})
              .ok());
  REQUIRE(api.RecordAction(c.uuid(), "create", "req-1", "p", "u").ok());
  db::PgCapsuleStore store(db.options());
  absl::StatusOr<int64_t> ev = store.StartAction(
      main.uuid, "create", "ev", db::ActionContext{"r2", "u", "p"});
  REQUIRE(ev.ok());
  db.Exec(
      absl::StrCat("INSERT INTO exec_instance (container_id, exec_id) "
                   "SELECT id, 'e1' FROM container WHERE uuid = '",
                   main.uuid, "'"));
  // Another capsule's rows stay.
  capsule::Capsule other = c;
  other.record.uuid = "bbbbbbbb-0000-0000-0000-000000000001";
  other.init_containers.clear();
  other.containers[0].uuid = "bbbbbbbb-0000-0000-0000-000000000002";
  REQUIRE(api.CreateCapsule(other).ok());

  REQUIRE(store.DeleteCapsule(c.uuid()).ok());
  for (const char* table : {"volume", "volume_mapping", "container_actions",
                            "container_actions_events", "exec_instance"}) {
    INFO(table);
    CHECK(db.Query(absl::StrCat("SELECT count(*) AS n FROM ", table))[0].at(
              "n") == "0");
  }
  auto left = db.Query("SELECT uuid FROM container ORDER BY uuid");
  REQUIRE(left.size() == 2);
  CHECK(left[0].at("uuid") == other.uuid());
  CHECK(store.DeleteCapsule(c.uuid()).ok());  // idempotent
}

}  // namespace
}  // namespace zun::testing
