#include "db/api_store.h"

#include "absl/strings/str_cat.h"
#include "common/uuid.h"
#include "db/pg_pool.h"
#include "db/pg_util.h"
#include "db/row_codec.h"

namespace zun::db {
namespace {

using capsule::Capsule;
using capsule::ContainerRecord;

std::optional<std::string> Opt(const std::optional<std::string>& v) {
  return v;
}
std::optional<std::string> Json(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.dump();
}
template <typename T>
std::optional<std::string> Num(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  return nlohmann::json(*v).dump();
}
std::string Bool(bool b) { return b ? "true" : "false"; }

int64_t InsertRecord(pqxx::work& t, const ContainerRecord& r,
                     std::optional<int64_t> capsule_id) {
  SqlParams p;
  p.Add(r.uuid)
      .Add(std::to_string(static_cast<int>(r.container_type)))
      .Add(capsule_id ? std::optional<std::string>(std::to_string(*capsule_id))
                      : std::nullopt)
      .Add(Opt(r.name))
      .Add(Opt(r.project_id))
      .Add(Opt(r.user_id))
      .Add(Opt(r.image))
      .Add(Num(r.cpu))
      .Add(r.cpu_policy.value_or("shared"))
      .Add(Opt(r.memory))
      .Add(nlohmann::json(r.command).dump())
      .Add(r.entrypoint.empty() ? std::nullopt
                                : std::optional<std::string>(
                                      nlohmann::json(r.entrypoint).dump()))
      .Add(Opt(r.status))
      .Add(Opt(r.task_state))
      .Add(nlohmann::json(r.environment).dump())
      .Add(Opt(r.workdir))
      .Add(nlohmann::json(r.ports).dump())
      .Add(Opt(r.hostname))
      .Add(nlohmann::json(r.labels).dump())
      .Add(Opt(r.image_pull_policy))
      .Add(Opt(r.host))
      .Add(nlohmann::json(r.restart_policy).dump())
      .Add(Bool(r.interactive))
      .Add(Bool(r.tty))
      .Add(Bool(r.privileged))
      .Add(Bool(r.auto_remove))
      .Add(Bool(r.auto_heal))
      .Add(Opt(r.image_driver))
      .Add(nlohmann::json(r.security_groups).dump())
      .Add(Opt(r.runtime))
      .Add(Num(r.disk))
      .Add(Num(r.registry_id))
      .Add(Json(r.addresses))
      .Add(Json(r.exposed_ports))
      .Add(Json(r.healthcheck))
      .Add(Json(r.annotations))
      .Add(Json(r.cpuset));
  pqxx::result res = p.Exec(
      t,
      "INSERT INTO container (uuid, container_type, capsule_id, name, "
      "project_id, user_id, image, cpu, cpu_policy, memory, command, "
      "entrypoint, status, task_state, environment, workdir, ports, hostname, "
      "labels, image_pull_policy, host, restart_policy, interactive, tty, "
      "privileged, auto_remove, auto_heal, image_driver, security_groups, "
      "runtime, disk, registry_id, addresses, exposed_ports, healthcheck, "
      "annotations, cpuset, created_at) VALUES ($1, $2::int, $3::int, $4, $5, "
      "$6, $7, $8::float8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
      "$19, $20, $21, $22, $23::bool, $24::bool, $25::bool, $26::bool, "
      "$27::bool, $28, $29, $30, $31::int, $32::int, $33, $34, $35, $36, $37, "
      "LOCALTIMESTAMP) RETURNING id");
  return res[0][0].as<int64_t>();
}

absl::StatusOr<std::vector<Capsule>> Load(pqxx::transaction_base& t,
                                          const std::string& where,
                                          const std::string& arg) {
  SqlParams p;
  if (!arg.empty()) p.Add(arg);
  pqxx::result caps =
      p.Exec(t, absl::StrCat("SELECT ", ContainerColumns(),
                             " FROM container WHERE container_type = 1 ", where,
                             " ORDER BY id"));
  std::vector<Capsule> out;
  for (const auto& row : caps) {
    absl::StatusOr<ContainerRecord> r = DecodeContainerRow(row);
    if (!r.ok()) return r.status();
    Capsule c;
    c.record = *std::move(r);
    pqxx::result kids = SqlParams()
                            .Add(std::to_string(c.record.id))
                            .Exec(t, absl::StrCat("SELECT ", ContainerColumns(),
                                                  " FROM container WHERE "
                                                  "capsule_id = $1::int ORDER "
                                                  "BY id"));
    for (const auto& k : kids) {
      absl::StatusOr<ContainerRecord> kr = DecodeContainerRow(k);
      if (!kr.ok()) return kr.status();
      (kr->container_type == capsule::ContainerType::kCapsuleInitContainer
           ? c.init_containers
           : c.containers)
          .push_back(*std::move(kr));
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

ApiStore::ApiStore(const PgOptions& options)
    : pool_(std::make_unique<PgPool>(options)) {}
ApiStore::~ApiStore() = default;

absl::StatusOr<Capsule> ApiStore::CreateCapsule(const Capsule& c) {
  absl::StatusOr<Capsule> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run(
      [&](pqxx::connection& conn) {
        Work t(conn);
        Capsule stored = c;
        stored.record.container_type = capsule::ContainerType::kCapsule;
        stored.record.id = InsertRecord(t, stored.record, std::nullopt);
        for (auto* list : {&stored.init_containers, &stored.containers}) {
          for (ContainerRecord& child : *list) {
            child.container_type =
                list == &stored.init_containers
                    ? capsule::ContainerType::kCapsuleInitContainer
                    : capsule::ContainerType::kCapsuleContainer;
            child.capsule_id = stored.record.id;
            child.id = InsertRecord(t, child, stored.record.id);
          }
        }
        t.commit();
        out = std::move(stored);
        return absl::OkStatus();
      },
      /*idempotent=*/false);
  if (!s.ok()) return s;
  return out;
}

namespace {

// UPDATE of one capsule row by uuid ($1); NotFound if there is none.
absl::Status UpdateCapsuleRow(PgPool& pool, const std::string& uuid,
                              const SqlParams& params, const char* set) {
  bool found = false;
  absl::Status s = pool.Run([&](pqxx::connection& conn) {
    Work t(conn);
    pqxx::result r = params.Exec(
        t, absl::StrCat("UPDATE container SET ", set,
                        ", updated_at = LOCALTIMESTAMP WHERE uuid = $1 AND "
                        "container_type = 1 RETURNING id"));
    found = !r.empty();
    t.commit();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!found) {
    return absl::NotFoundError(absl::StrCat("capsule ", uuid, " not found"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApiStore::MarkDeleting(const std::string& uuid) {
  return UpdateCapsuleRow(*pool_, uuid, SqlParams().Add(uuid),
                          "task_state = 'container_deleting'");
}

absl::Status ApiStore::MarkError(const std::string& uuid,
                                 const std::string& reason) {
  return UpdateCapsuleRow(*pool_, uuid, SqlParams().Add(uuid).Add(reason),
                          "status = 'Error', status_reason = $2");
}

absl::Status ApiStore::DeleteRows(const std::string& uuid) {
  return pool_->Run([&](pqxx::connection& conn) {
    Work t(conn);
    SqlParams().Add(uuid).Exec(
        t, "DELETE FROM container WHERE uuid = $1 AND container_type = 1");
    t.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<Capsule> ApiStore::Find(const std::string& key) {
  absl::StatusOr<std::vector<Capsule>> found = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& conn) {
    ReadTransaction t(conn);
    found = Load(t, IsUuid(key) ? "AND uuid = $1" : "AND name = $1", key);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!found.ok()) return found.status();
  if (found->empty())
    return absl::NotFoundError(absl::StrCat("no capsule '", key, "'"));
  if (found->size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("several capsules are named '", key, "'; use the uuid"));
  }
  return std::move(found->front());
}

absl::StatusOr<std::vector<Capsule>> ApiStore::List() {
  absl::StatusOr<std::vector<Capsule>> found = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& conn) {
    ReadTransaction t(conn);
    found = Load(t, "", "");
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return found;
}

absl::Status ApiStore::RecordAction(const std::string& uuid,
                                    const std::string& action,
                                    const std::string& request_id,
                                    const std::string& project_id,
                                    const std::string& user_id) {
  return pool_->Run(
      [&](pqxx::connection& conn) {
        Work t(conn);
        SqlParams()
            .Add(uuid)
            .Add(action)
            .Add(request_id)
            .Add(user_id)
            .Add(project_id)
            .Exec(t,
                  "INSERT INTO container_actions (created_at, container_uuid, "
                  "action, request_id, user_id, project_id, start_time) "
                  "VALUES (LOCALTIMESTAMP, $1, $2, $3, $4, $5, "
                  "LOCALTIMESTAMP)");
        t.commit();
        return absl::OkStatus();
      },
      /*idempotent=*/false);
}

absl::StatusOr<std::string> ApiStore::CreateLocalVolume(
    const std::string& project_id, const std::vector<VolumeMapping>& mounts) {
  const std::string volume_uuid = NewUuid4();
  absl::Status s = pool_->Run(
      [&](pqxx::connection& conn) {
        Work t(conn);
        pqxx::result v = SqlParams()
                             .Add(volume_uuid)
                             .Add(project_id)
                             .Exec(t,
                                   "INSERT INTO volume (uuid, project_id, "
                                   "volume_provider, auto_remove, created_at) "
                                   "VALUES ($1, $2, 'local', false, "
                                   "LOCALTIMESTAMP) RETURNING id");
        for (const VolumeMapping& m : mounts) {
          SqlParams()
              .Add(NewUuid4())
              .Add(project_id)
              .Add(v[0][0].c_str())
              .Add(m.container_path)
              .Add(m.container_uuid)
              .Add(m.read_only ? "true" : "false")
              .Exec(t,
                    "INSERT INTO volume_mapping (uuid, project_id, volume_id, "
                    "container_path, container_uuid, read_only, created_at) "
                    "VALUES ($1, $2, $3::int, $4, $5, $6::bool, "
                    "LOCALTIMESTAMP)");
        }
        t.commit();
        return absl::OkStatus();
      },
      /*idempotent=*/false);
  if (!s.ok()) return s;
  return volume_uuid;
}

absl::StatusOr<std::string> ApiStore::AddLocalVolume(
    const std::string& container_uuid, const std::string& container_path,
    bool read_only, const std::string& project_id) {
  return CreateLocalVolume(
      project_id, {VolumeMapping{container_uuid, container_path, read_only}});
}

absl::StatusOr<int64_t> ApiStore::CreateRegistry(
    const std::string& domain, const std::string& username,
    const std::string& password, const std::string& auth_encryption_key) {
  absl::StatusOr<std::string> key = ZunFernetKey(auth_encryption_key);
  if (!key.ok()) return key.status();
  std::string stored;
  if (!password.empty()) {
    absl::StatusOr<std::string> token =
        FernetEncrypt(*key, password,
                      static_cast<uint64_t>(absl::ToUnixSeconds(absl::Now())));
    if (!token.ok()) return token.status();
    stored = *token;
  }
  int64_t id = 0;
  absl::Status s = pool_->Run(
      [&](pqxx::connection& conn) {
        Work t(conn);
        pqxx::result r =
            SqlParams()
                .Add(NewUuid4())
                .Add(domain)
                .Add(username)
                .Add(stored)
                .Exec(t,
                      "INSERT INTO registry (uuid, name, domain, username, "
                      "password, created_at) VALUES ($1, $2, $2, $3, $4, "
                      "LOCALTIMESTAMP) RETURNING id");
        id = r[0][0].as<int64_t>();
        t.commit();
        return absl::OkStatus();
      },
      /*idempotent=*/false);
  if (!s.ok()) return s;
  return id;
}

absl::StatusOr<std::map<std::string, std::string>> ApiStore::SchedulableHosts(
    const std::vector<std::string>& rp_uuids,
    absl::Duration service_down_time) {
  std::map<std::string, std::string> out;
  if (rp_uuids.empty()) return out;
  absl::Status s = pool_->Run([&](pqxx::connection& conn) {
    ReadTransaction t(conn);
    pqxx::result rows =
        SqlParams()
            .Add(nlohmann::json(rp_uuids).dump())
            .Add(std::to_string(absl::ToInt64Seconds(service_down_time)))
            .Exec(t,
                  "SELECT cn.rp_uuid, cn.hostname FROM compute_node cn JOIN "
                  "zun_service s ON s.host = cn.hostname AND s.\"binary\" = "
                  "'zun-compute' WHERE cn.rp_uuid IN (SELECT "
                  "json_array_elements_text($1::json)) AND NOT "
                  "COALESCE(s.disabled, false) AND NOT COALESCE(s.forced_down, "
                  "false) AND COALESCE(s.last_seen_up, s.updated_at, "
                  "s.created_at) >= LOCALTIMESTAMP - make_interval(secs => "
                  "$2::int)");
    out.clear();
    for (const auto& row : rows) out[row[0].c_str()] = row[1].c_str();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> ApiStore::ProviderOf(const std::string& host) {
  std::string out;
  absl::Status s = pool_->Run([&](pqxx::connection& conn) {
    ReadTransaction t(conn);
    pqxx::result rows = SqlParams().Add(host).Exec(
        t, "SELECT rp_uuid FROM compute_node WHERE hostname = $1 LIMIT 1");
    if (rows.empty()) {
      return absl::NotFoundError(
          absl::StrCat("host '", host, "' has no compute_node row"));
    }
    out = rows[0][0].c_str();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace zun::db
