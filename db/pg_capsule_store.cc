#include "db/pg_capsule_store.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/uuid.h"
#include "db/pg_group_commit.h"
#include "db/pg_internal.h"
#include "db/pg_pool.h"
#include "db/pg_util.h"
#include "db/row_codec.h"
#include "db/schema.h"

namespace zun::db {
namespace {

using capsule::Capsule;
using capsule::ContainerRecord;

using internal::kNow;
using internal::LoadWithChildren;

}  // namespace

// Writers of one group commit: enough to carry a burst's status writes
// (each a few statements) in a few transactions, few enough that one
// transaction stays short.
constexpr size_t kMaxGroup = 64;

PgCapsuleStore::PgCapsuleStore(const PgOptions& options)
    : pool_(std::make_unique<PgPool>(options)),
      writes_(std::make_unique<GroupCommitter>(pool_.get(), kMaxGroup,
                                               /*idempotent=*/true)),
      claims_(std::make_unique<GroupCommitter>(pool_.get(), kMaxGroup,
                                               /*idempotent=*/false)) {}

PgCapsuleStore::~PgCapsuleStore() = default;

absl::StatusOr<Capsule> PgCapsuleStore::LoadCapsule(std::string_view uuid) {
  absl::StatusOr<Capsule> out = absl::UnknownError("not run");
  // One statement, in autocommit: the capsule with its children (a
  // snapshot of its own); volumes and registries only if they have any.
  absl::Status s = pool_->RunStatement(
      [&](pqxx::transaction_base& t) { out = internal::LoadIn(t, uuid); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Capsule>> PgCapsuleStore::LoadCapsules(
    const std::vector<std::string>& uuids) {
  constexpr size_t kBatch = 500;
  static const std::string* sql = new std::string(
      absl::StrCat("SELECT ", ContainerColumns(),
                   " FROM container WHERE uuid = ANY($1::varchar[]) AND "
                   "container_type = 1 ORDER BY id"));
  std::vector<Capsule> out;
  for (size_t at = 0; at < uuids.size(); at += kBatch) {
    const std::vector<std::string> batch(
        uuids.begin() + static_cast<std::ptrdiff_t>(at),
        uuids.begin() +
            static_cast<std::ptrdiff_t>(std::min(uuids.size(), at + kBatch)));
    absl::StatusOr<std::vector<Capsule>> part = absl::UnknownError("not run");
    absl::Status s = pool_->Run([&](pqxx::connection& c) {
      ReadTransaction t(c);
      pqxx::result rows = SqlParams().Add(TextArray(batch)).Exec(t, *sql);
      part = internal::LoadWithChildren(t, rows);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (!part.ok()) return part.status();
    for (Capsule& c : *part) out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<Capsule>> PgCapsuleStore::ListCapsules(
    std::string_view host) {
  absl::StatusOr<std::vector<Capsule>> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    ReadTransaction t(c);
    pqxx::result rows = SqlParams().Add(host).Exec(
        t, absl::StrCat("SELECT ", ContainerColumns(),
                        " FROM container WHERE container_type = 1 AND host = "
                        "$1 ORDER BY id"));
    out = LoadWithChildren(t, rows);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

namespace internal {

namespace {

// A statement of the WITH query `cap` (`cap_query`, yielding the capsule
// row's ContainerColumns()) and `more_ctes`, returning the capsule row, then
// its children with whether any mounts a volume; `event_id` is one more
// column.
std::string CapsuleRowsSql(std::string_view cap_query,
                           std::string_view more_ctes,
                           std::string_view event_id) {
  return absl::StrCat(
      "WITH cap AS (", AV(cap_query), ")", AV(more_ctes),
      " SELECT 0 AS zun_ord, false AS zun_has_volume, ", AV(event_id),
      " AS zun_event_id, ", ContainerColumns(),
      " FROM cap UNION ALL SELECT 1, EXISTS (SELECT 1 FROM volume_mapping vm "
      "WHERE vm.container_uuid = ch.uuid), NULL, ",
      ContainerColumns(),
      " FROM container ch WHERE ch.capsule_id = (SELECT id FROM cap) AND "
      "ch.container_type IN (2, 3) ORDER BY zun_ord, id");
}

// The claim's UPDATE ($1 uuid, $2 host, $3 task state) as CapsuleRowsSql's
// `cap`.
std::string ClaimSql(std::string_view more_ctes, std::string_view event_id) {
  return CapsuleRowsSql(
      absl::StrCat(
          "UPDATE container SET host = $2, task_state = CASE WHEN task_state "
          "IS NULL OR task_state = $3 THEN $3 ELSE task_state END, "
          "updated_at = ",
          kNow,
          " WHERE uuid = $1 AND container_type = 1 AND (host IS NULL OR host "
          "= $2) RETURNING ",
          ContainerColumns()),
      more_ctes, event_id);
}

// Why a claim matched no row: NOT_FOUND, or FAILED_PRECONDITION naming the
// host that holds the capsule.
absl::Status Unclaimed(pqxx::transaction_base& t, std::string_view uuid) {
  pqxx::result owner = SqlParams().Add(uuid).Exec(
      t, "SELECT host FROM container WHERE uuid = $1 AND container_type = 1");
  if (owner.empty()) {
    return absl::NotFoundError(
        absl::StrCat("capsule '", AV(uuid), "' not found"));
  }
  return absl::FailedPreconditionError(absl::StrCat("capsule '", AV(uuid),
                                                    "' is claimed by host '",
                                                    owner[0][0].c_str(), "'"));
}

absl::StatusOr<Capsule> Assemble(pqxx::transaction_base& t,
                                 const pqxx::result& rows) {
  absl::StatusOr<std::vector<Capsule>> all =
      internal::AssembleCapsules(t, {&rows}, true);
  if (!all.ok()) return all.status();
  if (all->empty()) return absl::InternalError("the capsule row is missing");
  return std::move(all->front());
}

}  // namespace

absl::StatusOr<Capsule> LoadIn(pqxx::transaction_base& t,
                               std::string_view uuid) {
  static const std::string* sql = new std::string(CapsuleRowsSql(
      absl::StrCat("SELECT ", ContainerColumns(),
                   " FROM container WHERE uuid = $1 AND container_type = 1"),
      "", "NULL::int"));
  pqxx::result rows = SqlParams().Add(uuid).Exec(t, *sql);
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("capsule '", AV(uuid), "' not found"));
  }
  return Assemble(t, rows);
}

absl::StatusOr<Capsule> ClaimIn(pqxx::transaction_base& t,
                                std::string_view uuid, std::string_view host,
                                std::string_view task_state) {
  // One round trip: the claimed row comes back with the UPDATE, its
  // children with it (and whether any mounts a volume).
  pqxx::result claimed = SqlParams()
                             .Add(uuid)
                             .Add(host)
                             .Add(task_state)
                             .Exec(t, ClaimSql("", "NULL::int"));
  if (claimed.empty()) return Unclaimed(t, uuid);
  return Assemble(t, claimed);
}

absl::StatusOr<CapsuleStore::Claimed> ClaimWithActionIn(
    pqxx::transaction_base& t, std::string_view uuid, std::string_view host,
    std::string_view task_state, std::string_view action,
    std::string_view event, const ActionContext& ctx) {
  // One statement: the claim, and only if it matched, the action (the row
  // the API wrote for this request, else a new one) and its event.
  static const std::string* sql = new std::string(ClaimSql(
      absl::StrCat(", ", StartActionCtes(4, "EXISTS (SELECT 1 FROM cap)")),
      "(SELECT id FROM ev)"));
  SqlParams params;
  params.Add(uuid).Add(host).Add(task_state);
  AddStartActionParams(params, action, event, ctx);
  pqxx::result claimed = params.Exec(t, *sql);
  if (claimed.empty()) return Unclaimed(t, uuid);
  const pqxx::field id = claimed[0]["zun_event_id"];
  if (id.is_null()) return absl::InternalError("the action event is missing");
  absl::StatusOr<Capsule> c = Assemble(t, claimed);
  if (!c.ok()) return c.status();
  return CapsuleStore::Claimed{*std::move(c), id.as<int64_t>()};
}

}  // namespace internal

absl::StatusOr<Capsule> PgCapsuleStore::ClaimCapsule(
    std::string_view uuid, std::string_view host, std::string_view task_state) {
  absl::StatusOr<Capsule> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    Work t(c);
    out = internal::ClaimIn(t, uuid, host, task_state);
    if (out.ok()) t.commit();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgCapsuleStore::Apply(const std::vector<RowPatch>& patches) {
  return internal::CommitWrite(*writes_, patches, std::nullopt);
}

absl::Status PgCapsuleStore::DeleteCapsule(std::string_view uuid) {
  // Children and dependants go explicitly, as Zun's compute manager removes
  // volume mappings: nothing relies on ON DELETE actions (a database may
  // lack them; volume_mapping has none). One statement: its WITH queries
  // all read the rows as they were before it, and the foreign keys are
  // checked once it is complete.
  static const std::string* sql = new std::string(
      "WITH r AS (SELECT uuid FROM container WHERE uuid = $1 AND "
      "container_type = 1 UNION SELECT ch.uuid FROM container ch JOIN "
      "container cap ON ch.capsule_id = cap.id WHERE cap.uuid = $1 AND "
      "cap.container_type = 1), "
      // Local volumes used by this capsule alone go with it; shared and
      // Cinder volumes stay.
      "dv AS (DELETE FROM volume v WHERE v.volume_provider = 'local' AND "
      "v.id IN (SELECT volume_id FROM volume_mapping WHERE container_uuid IN "
      "(SELECT uuid FROM r)) AND NOT EXISTS (SELECT 1 FROM volume_mapping vm2 "
      "WHERE vm2.volume_id = v.id AND (vm2.container_uuid IS NULL OR "
      "vm2.container_uuid NOT IN (SELECT uuid FROM r)))), "
      "dvm AS (DELETE FROM volume_mapping WHERE container_uuid IN (SELECT "
      "uuid FROM r)), "
      "dev AS (DELETE FROM container_actions_events WHERE action_id IN "
      "(SELECT id FROM container_actions WHERE container_uuid IN (SELECT uuid "
      "FROM r))), "
      "dact AS (DELETE FROM container_actions WHERE container_uuid IN (SELECT "
      "uuid FROM r)), "
      "dex AS (DELETE FROM exec_instance WHERE container_id IN (SELECT id "
      "FROM container WHERE uuid IN (SELECT uuid FROM r))), "
      "dch AS (DELETE FROM container WHERE capsule_id = (SELECT id FROM "
      "container WHERE uuid = $1 AND container_type = 1) AND container_type "
      "IN (2, 3)) "
      "DELETE FROM container WHERE uuid = $1 AND container_type = 1");
  return pool_->RunStatement(
      [&](pqxx::transaction_base& t) { SqlParams().Add(uuid).Exec(t, *sql); });
}

absl::StatusOr<std::map<std::string, std::string>>
PgCapsuleStore::CapsuleVersions(std::string_view host) {
  std::map<std::string, std::string> out;
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    ReadTransaction t(c);
    pqxx::result rows = SqlParams().Add(host).Exec(
        t,
        "SELECT uuid, (EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint AS "
        "us, task_state, status FROM container WHERE host = $1 AND "
        "container_type = 1");
    out.clear();
    for (const auto& row : rows) {
      out[row["uuid"].c_str()] = absl::StrCat(
          row["us"].is_null() ? "" : row["us"].c_str(), "|",
          row["task_state"].is_null() ? "" : row["task_state"].c_str(), "|",
          row["status"].is_null() ? "" : row["status"].c_str());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgCapsuleStore::Ping() {
  return pool_->Run([](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    n.exec("SELECT 1");
    return absl::OkStatus();
  });
}

PoolStats PgCapsuleStore::pool_stats() const { return pool_->Stats(); }

absl::Status PgCapsuleStore::Health(absl::Duration max_age) {
  const PoolStats s = pool_->Stats();
  if (!s.last_failed && absl::Now() - s.last_ok <= max_age) {
    return absl::OkStatus();
  }
  absl::Status ping = Ping();
  // A pool whose every slot is busy failing says nothing new: the reason
  // the server could not be reached does.
  if (absl::IsDeadlineExceeded(ping)) {
    const std::string why = pool_->Stats().last_error;
    if (!why.empty()) {
      return absl::UnavailableError(
          absl::StrCat(ping.message(), "; last error: ", why));
    }
  }
  return ping;
}

absl::StatusOr<int> SchemaVersion(const PgOptions& options) {
  PgPool pool(options);
  int version = 0;
  absl::Status s = pool.Run([&](pqxx::connection& c) {
    ReadTransaction t(c);
    pqxx::result exists = t.exec(
        "SELECT 1 FROM information_schema.tables WHERE table_name = "
        "'zun_agent_schema_version'");
    if (exists.empty()) return absl::OkStatus();
    pqxx::result r = t.exec(
        "SELECT COALESCE(MAX(version), 0) FROM zun_agent_schema_version");
    version = r[0][0].as<int>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return version;
}

absl::StatusOr<int> SyncSchema(const PgOptions& options,
                               std::string_view agent_version) {
  PgPool pool(options);
  int version = 0;
  absl::Status s = pool.Run([&](pqxx::connection& c) {
    {
      Work t(c);
      t.exec("SELECT pg_advisory_xact_lock(727173)");
      // A Zun database at another revision must be brought to ours by
      // Zun's own migrations first: tables created here would collide
      // with the ones they create.
      pqxx::result rev = t.exec(
          "SELECT 1 FROM information_schema.tables WHERE table_name = "
          "'alembic_version' AND table_schema = current_schema()");
      if (!rev.empty()) {
        pqxx::result at = t.exec("SELECT version_num FROM alembic_version");
        for (const auto& row : at) {
          const std::string have = row[0].c_str();
          if (have != kZunAlembicRevision) {
            return absl::FailedPreconditionError(absl::StrCat(
                "the database is at Zun schema revision ", have,
                "; zun-agent works with revision ", kZunAlembicRevision,
                " (Zun's head): run `zun-db-manage upgrade` first"));
          }
        }
      }
      t.exec(
          "CREATE TABLE IF NOT EXISTS zun_agent_schema_version (version "
          "INTEGER PRIMARY KEY, description TEXT, applied_at TIMESTAMP, "
          "agent_version VARCHAR(64))");
      t.commit();
    }
    for (const Migration& m : Migrations()) {
      Work t(c);
      t.exec("SELECT pg_advisory_xact_lock(727173)");
      pqxx::result done = SqlParams()
                              .Add(std::to_string(m.version))
                              .Exec(t,
                                    "SELECT 1 FROM zun_agent_schema_version "
                                    "WHERE version = $1::int");
      if (!done.empty()) continue;
      for (const std::string& stmt : m.statements) t.exec(stmt);
      // agent_version exists from here on: fresh tables have it, and
      // migration 4 adds it to older ones before its own row is written.
      SqlParams()
          .Add(std::to_string(m.version))
          .Add(m.description)
          .Add(std::string(agent_version))
          .Exec(t, absl::StrCat("INSERT INTO zun_agent_schema_version "
                                "(version, description, applied_at, "
                                "agent_version) VALUES ($1::int, $2, ",
                                kNow, ", NULLIF($3, ''))"));
      t.commit();
      ZUN_LOG(kDb, info, "applied schema migration {}: {}", m.version,
              m.description);
    }
    ReadTransaction t(c);
    version = t.exec("SELECT MAX(version) FROM zun_agent_schema_version")[0][0]
                  .as<int>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return version;
}

}  // namespace zun::db
