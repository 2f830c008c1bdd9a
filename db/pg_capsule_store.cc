#include "db/pg_capsule_store.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/uuid.h"
#include "db/pg_pool.h"
#include "db/pg_util.h"
#include "db/row_codec.h"
#include "db/schema.h"

namespace zun::db {
namespace {

using capsule::Capsule;
using capsule::ContainerRecord;
using capsule::ContainerType;

constexpr char kNow[] = "LOCALTIMESTAMP";

// Groups decoded rows into capsules: capsule rows first, children attached by
// capsule_id in id order.
absl::StatusOr<std::vector<Capsule>> Assemble(const pqxx::result& capsules,
                                              const pqxx::result& children) {
  std::vector<Capsule> out;
  std::map<int64_t, size_t> by_id;
  for (const auto& row : capsules) {
    absl::StatusOr<ContainerRecord> r = DecodeContainerRow(row);
    if (!r.ok()) return r.status();
    by_id[r->id] = out.size();
    Capsule c;
    c.record = *std::move(r);
    out.push_back(std::move(c));
  }
  for (const auto& row : children) {
    absl::StatusOr<ContainerRecord> r = DecodeContainerRow(row);
    if (!r.ok()) return r.status();
    auto it = by_id.find(r->capsule_id.value_or(-1));
    if (it == by_id.end()) continue;
    Capsule& c = out[it->second];
    if (r->container_type == ContainerType::kCapsuleInitContainer) {
      c.init_containers.push_back(*std::move(r));
    } else if (r->container_type == ContainerType::kCapsuleContainer) {
      c.containers.push_back(*std::move(r));
    }
  }
  return out;
}

// Loads children and registries for the capsule rows in `capsules`.
absl::StatusOr<std::vector<Capsule>> LoadWithChildren(
    pqxx::transaction_base& t, const pqxx::result& capsules) {
  std::vector<std::string> ids;
  for (const auto& row : capsules) ids.push_back(row["id"].c_str());
  pqxx::result children;
  if (!ids.empty()) {
    children = SqlParams()
                   .Add(absl::StrCat("{", absl::StrJoin(ids, ","), "}"))
                   .Exec(t, absl::StrCat("SELECT ", kContainerColumns,
                                         " FROM container WHERE capsule_id = "
                                         "ANY($1::int[]) AND container_type "
                                         "IN (2, 3) ORDER BY id"));
  }
  absl::StatusOr<std::vector<Capsule>> out = Assemble(capsules, children);
  if (!out.ok()) return out;
  if (!children.empty()) {
    std::vector<std::string> child_uuids;
    for (const auto& row : children) child_uuids.push_back(row["uuid"].c_str());
    pqxx::result vols =
        SqlParams()
            .Add(absl::StrCat("{", absl::StrJoin(child_uuids, ","), "}"))
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
    for (Capsule& cap : *out) {
      for (auto* list : {&cap.init_containers, &cap.containers}) {
        for (auto& child : *list) {
          auto it = by_child.find(child.uuid);
          if (it != by_child.end()) child.volumes = it->second;
        }
      }
    }
  }
  std::vector<std::string> registry_ids;
  for (const Capsule& c : *out) {
    for (const auto* list : {&c.init_containers, &c.containers}) {
      for (const auto& child : *list) {
        if (child.registry_id)
          registry_ids.push_back(std::to_string(*child.registry_id));
      }
    }
  }
  if (registry_ids.empty()) return out;
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
  for (Capsule& c : *out) {
    for (const auto* list : {&c.init_containers, &c.containers}) {
      for (const auto& child : *list) {
        if (child.registry_id && creds.count(*child.registry_id)) {
          c.registries[*child.registry_id] = creds[*child.registry_id];
        }
      }
    }
  }
  return out;
}

absl::StatusOr<Capsule> LoadOne(pqxx::transaction_base& t,
                                std::string_view uuid) {
  pqxx::result rows =
      SqlParams().Add(uuid).Exec(t, absl::StrCat("SELECT ", kContainerColumns,
                                                 " FROM container WHERE uuid = "
                                                 "$1 AND container_type = 1"));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("capsule '", AV(uuid), "' not found"));
  }
  absl::StatusOr<std::vector<Capsule>> all = LoadWithChildren(t, rows);
  if (!all.ok()) return all.status();
  return std::move(all->front());
}

}  // namespace

PgCapsuleStore::PgCapsuleStore(const PgOptions& options)
    : pool_(std::make_unique<PgPool>(options)) {}

PgCapsuleStore::~PgCapsuleStore() = default;

absl::StatusOr<Capsule> PgCapsuleStore::LoadCapsule(std::string_view uuid) {
  absl::StatusOr<Capsule> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    pqxx::read_transaction t(c);
    out = LoadOne(t, uuid);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Capsule>> PgCapsuleStore::ListCapsules(
    std::string_view host) {
  absl::StatusOr<std::vector<Capsule>> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    pqxx::read_transaction t(c);
    pqxx::result rows = SqlParams().Add(host).Exec(
        t, absl::StrCat("SELECT ", kContainerColumns,
                        " FROM container WHERE container_type = 1 AND host = "
                        "$1 ORDER BY id"));
    out = LoadWithChildren(t, rows);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Capsule> PgCapsuleStore::ClaimCapsule(
    std::string_view uuid, std::string_view host, std::string_view task_state) {
  absl::StatusOr<Capsule> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    pqxx::work t(c);
    pqxx::result claimed =
        SqlParams()
            .Add(uuid)
            .Add(host)
            .Add(task_state)
            .Exec(
                t,
                absl::StrCat(
                    "UPDATE container SET host = $2, task_state = CASE WHEN "
                    "task_state IS NULL OR task_state = $3 THEN $3 ELSE "
                    "task_state END, updated_at = ",
                    kNow,
                    " WHERE uuid = $1 AND container_type = 1 AND (host IS NULL "
                    "OR host = $2) RETURNING id"));
    if (claimed.empty()) {
      pqxx::result owner = SqlParams().Add(uuid).Exec(
          t,
          "SELECT host FROM container WHERE uuid = $1 AND container_type = 1");
      if (owner.empty()) {
        out = absl::NotFoundError(
            absl::StrCat("capsule '", AV(uuid), "' not found"));
      } else {
        out = absl::FailedPreconditionError(
            absl::StrCat("capsule '", AV(uuid), "' is claimed by host '",
                         owner[0][0].c_str(), "'"));
      }
      return absl::OkStatus();
    }
    out = LoadOne(t, uuid);
    t.commit();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgCapsuleStore::Apply(const std::vector<RowPatch>& patches) {
  // Encode first: a bad column fails the call before any SQL runs.
  struct Prepared {
    std::string sql;
    SqlParams params;
  };
  std::vector<Prepared> statements;
  for (const RowPatch& p : patches) {
    if (p.empty()) continue;
    Prepared st;
    st.params.Add(p.uuid());
    std::vector<std::string> sets;
    for (const auto& [col, value] : p.values()) {
      absl::StatusOr<std::optional<std::string>> v =
          EncodeColumnValue(col, value);
      if (!v.ok()) return v.status();
      st.params.Add(*std::move(v));
      sets.push_back(absl::StrCat(col, " = $", st.params.size()));
    }
    if (p.clear_task_state_if()) {
      st.params.Add(*p.clear_task_state_if());
      sets.push_back(absl::StrCat("task_state = CASE WHEN task_state = $",
                                  st.params.size(),
                                  " THEN NULL ELSE task_state END"));
    }
    sets.push_back(absl::StrCat("updated_at = ", kNow));
    st.sql = absl::StrCat("UPDATE container SET ", absl::StrJoin(sets, ", "),
                          " WHERE uuid = $1");
    statements.push_back(std::move(st));
  }
  if (statements.empty()) return absl::OkStatus();
  return pool_->Run([&](pqxx::connection& c) {
    pqxx::work t(c);
    for (const Prepared& st : statements) st.params.Exec(t, st.sql);
    t.commit();
    return absl::OkStatus();
  });
}

absl::Status PgCapsuleStore::DeleteCapsule(std::string_view uuid) {
  return pool_->Run([&](pqxx::connection& c) {
    pqxx::work t(c);
    // Local volumes used by this capsule alone go with it (their mappings
    // by cascade); shared and Cinder volumes stay.
    SqlParams().Add(uuid).Exec(
        t,
        "WITH cap AS (SELECT id FROM container WHERE uuid = $1 AND "
        "container_type = 1) "
        "DELETE FROM volume v WHERE v.volume_provider = 'local' AND v.id IN "
        "(SELECT vm.volume_id FROM volume_mapping vm JOIN container c ON "
        "vm.container_uuid = c.uuid WHERE c.capsule_id = (SELECT id FROM cap)) "
        "AND NOT EXISTS (SELECT 1 FROM volume_mapping vm2 LEFT JOIN container "
        "c2 ON vm2.container_uuid = c2.uuid WHERE vm2.volume_id = v.id AND "
        "c2.capsule_id IS DISTINCT FROM (SELECT id FROM cap))");
    // Children go by ON DELETE CASCADE, their actions with them.
    SqlParams().Add(uuid).Exec(
        t, "DELETE FROM container WHERE uuid = $1 AND container_type = 1");
    t.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PgCapsuleStore::StartAction(std::string_view uuid,
                                                    std::string_view action,
                                                    std::string_view event,
                                                    const ActionContext& ctx) {
  absl::StatusOr<int64_t> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run(
      [&](pqxx::connection& c) {
        pqxx::work t(c);
        pqxx::result found = SqlParams()
                                 .Add(uuid)
                                 .Add(action)
                                 .Add(ctx.request_id)
                                 .Exec(t,
                                       "SELECT id FROM container_actions WHERE "
                                       "container_uuid = $1 "
                                       "AND action = $2 AND request_id = $3 "
                                       "ORDER BY id DESC LIMIT 1");
        std::string action_id;
        if (!found.empty()) {
          action_id = found[0][0].c_str();
        } else {
          pqxx::result ins =
              SqlParams()
                  .Add(uuid)
                  .Add(action)
                  .Add(ctx.request_id)
                  .Add(ctx.user_id)
                  .Add(ctx.project_id)
                  .Exec(t, absl::StrCat(
                               "INSERT INTO container_actions (created_at, "
                               "container_uuid, action, request_id, user_id, "
                               "project_id, start_time) VALUES (",
                               kNow, ", $1, $2, $3, $4, $5, ", kNow,
                               ") RETURNING id"));
          action_id = ins[0][0].c_str();
        }
        pqxx::result ev = SqlParams().Add(event).Add(action_id).Exec(
            t, absl::StrCat("INSERT INTO container_actions_events (created_at, "
                            "event, action_id, start_time) VALUES (",
                            kNow, ", $1, $2::int, ", kNow, ") RETURNING id"));
        out = ev[0][0].as<int64_t>();
        t.commit();
        return absl::OkStatus();
      },
      /*idempotent=*/false);
  if (!s.ok()) return s;
  return out;
}

absl::Status PgCapsuleStore::FinishAction(int64_t event_id, bool success,
                                          std::string_view message) {
  return pool_->Run([&](pqxx::connection& c) {
    pqxx::work t(c);
    const std::string id = std::to_string(event_id);
    SqlParams()
        .Add(id)
        .Add(success ? "Success" : "Error")
        .Add(success ? std::optional<std::string>()
                     : std::optional<std::string>(std::string(message)))
        .Exec(t, absl::StrCat("UPDATE container_actions_events SET "
                              "finish_time = ",
                              kNow, ", updated_at = ", kNow,
                              ", result = $2, traceback = $3 WHERE id = "
                              "$1::int"));
    SqlParams()
        .Add(id)
        .Add(success ? std::optional<std::string>()
                     : std::optional<std::string>("Error"))
        .Exec(t, absl::StrCat("UPDATE container_actions SET finish_time = ",
                              kNow, ", updated_at = ", kNow,
                              ", message = COALESCE($2, message) WHERE id = "
                              "(SELECT action_id FROM container_actions_events "
                              "WHERE id = $1::int)"));
    t.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<ServiceRecord> PgCapsuleStore::ReportService(
    std::string_view host, std::string_view availability_zone) {
  absl::StatusOr<ServiceRecord> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    pqxx::work t(c);
    pqxx::result r =
        SqlParams()
            .Add(host)
            .Add(availability_zone)
            .Exec(
                t,
                absl::StrCat(
                    "INSERT INTO zun_service (created_at, host, \"binary\", "
                    "availability_zone, report_count, last_seen_up, disabled, "
                    "forced_down) VALUES (",
                    kNow, ", $1, 'zun-compute', $2, 1, ", kNow,
                    ", false, false) ON CONFLICT (host, \"binary\") DO UPDATE "
                    "SET "
                    "report_count = zun_service.report_count + 1, last_seen_up "
                    "= ",
                    kNow, ", updated_at = ", kNow,
                    ", availability_zone = EXCLUDED.availability_zone "
                    "RETURNING id, "
                    "host, \"binary\", disabled, disabled_reason, forced_down, "
                    "report_count, last_seen_up, availability_zone"));
    const auto& row = r[0];
    ServiceRecord rec;
    rec.id = row["id"].as<int64_t>();
    rec.host = row["host"].c_str();
    rec.binary = row["binary"].c_str();
    rec.disabled = !row["disabled"].is_null() && row["disabled"].as<bool>();
    rec.disabled_reason =
        row["disabled_reason"].is_null() ? "" : row["disabled_reason"].c_str();
    rec.forced_down =
        !row["forced_down"].is_null() && row["forced_down"].as<bool>();
    rec.report_count = row["report_count"].as<int64_t>();
    if (!row["last_seen_up"].is_null()) {
      rec.last_seen_up = ParseDbTime(row["last_seen_up"].c_str());
    }
    rec.availability_zone = row["availability_zone"].is_null()
                                ? ""
                                : row["availability_zone"].c_str();
    t.commit();
    out = rec;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> PgCapsuleStore::UpsertComputeNode(
    const ComputeNodeRecord& n) {
  absl::StatusOr<std::string> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    pqxx::work t(c);
    pqxx::result existing =
        SqlParams()
            .Add(n.hostname)
            .Exec(t,
                  "SELECT uuid FROM compute_node WHERE hostname = $1 ORDER BY "
                  "created_at LIMIT 1 FOR UPDATE");
    std::string uuid = !existing.empty() ? existing[0][0].c_str()
                       : !n.uuid.empty() ? n.uuid
                                         : NewUuid4();
    SqlParams p;
    p.Add(uuid)
        .Add(n.rp_uuid.empty() ? uuid : n.rp_uuid)
        .Add(n.hostname)
        .Add(n.numa_topology.dump())
        .Add(std::to_string(n.mem_total))
        .Add(std::to_string(n.mem_free))
        .Add(std::to_string(n.mem_available))
        .Add(std::to_string(n.mem_used))
        .Add(std::to_string(n.total_containers))
        .Add(std::to_string(n.running_containers))
        .Add(std::to_string(n.paused_containers))
        .Add(std::to_string(n.stopped_containers))
        .Add(std::to_string(n.cpus))
        .Add(std::to_string(n.cpu_used))
        .Add(n.architecture)
        .Add(n.os_type)
        .Add(n.os)
        .Add(n.kernel_version)
        .Add(n.labels.dump())
        .Add(n.pci_stats.dump())
        .Add(std::to_string(n.disk_total))
        .Add(std::to_string(n.disk_used))
        .Add(n.disk_quota_supported ? "true" : "false")
        .Add(n.runtimes.dump())
        .Add(n.enable_cpu_pinning ? "true" : "false");
    const char* cols =
        "uuid, rp_uuid, hostname, numa_topology, mem_total, mem_free, "
        "mem_available, mem_used, total_containers, running_containers, "
        "paused_containers, stopped_containers, cpus, cpu_used, architecture, "
        "os_type, os, kernel_version, labels, pci_stats, disk_total, "
        "disk_used, disk_quota_supported, runtimes, enable_cpu_pinning";
    if (existing.empty()) {
      p.Exec(t, absl::StrCat("INSERT INTO compute_node (", cols,
                             ", created_at) VALUES ($1, $2, $3, $4, $5, $6, "
                             "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
                             "$17, $18, $19, $20, $21, $22, $23, $24, $25, ",
                             kNow, ")"));
    } else {
      p.Exec(t, absl::StrCat(
                    "UPDATE compute_node SET rp_uuid = $2, hostname = $3, "
                    "numa_topology = $4, mem_total = $5, mem_free = $6, "
                    "mem_available = $7, mem_used = $8, total_containers = $9, "
                    "running_containers = $10, paused_containers = $11, "
                    "stopped_containers = $12, cpus = $13, cpu_used = $14, "
                    "architecture = $15, os_type = $16, os = $17, "
                    "kernel_version = $18, labels = $19, pci_stats = $20, "
                    "disk_total = $21, disk_used = $22, disk_quota_supported "
                    "= $23, runtimes = $24, enable_cpu_pinning = $25, "
                    "updated_at = ",
                    kNow, " WHERE uuid = $1"));
    }
    t.commit();
    out = uuid;
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

absl::StatusOr<int> SchemaVersion(const PgOptions& options) {
  PgPool pool(options);
  int version = 0;
  absl::Status s = pool.Run([&](pqxx::connection& c) {
    pqxx::read_transaction t(c);
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

absl::StatusOr<int> SyncSchema(const PgOptions& options) {
  PgPool pool(options);
  int version = 0;
  absl::Status s = pool.Run([&](pqxx::connection& c) {
    {
      pqxx::work t(c);
      t.exec("SELECT pg_advisory_xact_lock(727173)");
      t.exec(
          "CREATE TABLE IF NOT EXISTS zun_agent_schema_version (version "
          "INTEGER PRIMARY KEY, description TEXT, applied_at TIMESTAMP)");
      t.commit();
    }
    for (const Migration& m : Migrations()) {
      pqxx::work t(c);
      t.exec("SELECT pg_advisory_xact_lock(727173)");
      pqxx::result done = SqlParams()
                              .Add(std::to_string(m.version))
                              .Exec(t,
                                    "SELECT 1 FROM zun_agent_schema_version "
                                    "WHERE version = $1::int");
      if (!done.empty()) continue;
      for (const std::string& stmt : m.statements) t.exec(stmt);
      SqlParams()
          .Add(std::to_string(m.version))
          .Add(m.description)
          .Exec(t, absl::StrCat("INSERT INTO zun_agent_schema_version "
                                "(version, description, applied_at) VALUES "
                                "($1::int, $2, ",
                                kNow, ")"));
      t.commit();
      ZUN_LOG(kDb, info, "applied schema migration {}: {}", m.version,
              m.description);
    }
    pqxx::read_transaction t(c);
    version = t.exec("SELECT MAX(version) FROM zun_agent_schema_version")[0][0]
                  .as<int>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return version;
}

}  // namespace zun::db
