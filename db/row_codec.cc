#include "db/row_codec.h"

#include "absl/strings/str_cat.h"
#include "db/capsule_store.h"

namespace zun::db {
namespace {

using capsule::ContainerRecord;

std::optional<std::string> Str(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str(), f.size());
}

bool Bool(const pqxx::field& f) { return !f.is_null() && f.as<bool>(); }

template <typename T>
std::optional<T> Num(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

absl::Status Bad(const ContainerRecord& r, const char* column,
                 const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("row '", r.uuid, "': column ", column, " ", why));
}

absl::StatusOr<nlohmann::json> Json(const ContainerRecord& r,
                                    const char* column, const pqxx::field& f) {
  if (f.is_null()) return nlohmann::json();
  nlohmann::json j = nlohmann::json::parse(f.c_str(), nullptr, false);
  if (j.is_discarded()) return Bad(r, column, "is not valid JSON");
  return j;
}

absl::Status DecodeList(const ContainerRecord& r, const char* column,
                        const pqxx::field& f, std::vector<std::string>* out) {
  absl::StatusOr<nlohmann::json> j = Json(r, column, f);
  if (!j.ok()) return j.status();
  if (j->is_null()) return absl::OkStatus();
  if (!j->is_array()) return Bad(r, column, "is not a JSON list");
  for (const auto& v : *j) {
    if (v.is_string()) {
      out->push_back(v.get<std::string>());
    } else if (v.is_number() || v.is_boolean()) {
      out->push_back(v.dump());  // Zun converts command items with str()
    } else {
      return Bad(r, column, "holds a non-string item");
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeDict(const ContainerRecord& r, const char* column,
                        const pqxx::field& f, capsule::StringMap* out) {
  absl::StatusOr<nlohmann::json> j = Json(r, column, f);
  if (!j.ok()) return j.status();
  if (j->is_null()) return absl::OkStatus();
  if (!j->is_object()) return Bad(r, column, "is not a JSON dict");
  for (const auto& [k, v] : j->items()) {
    if (v.is_string()) {
      (*out)[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      (*out)[k] = v.dump();
    } else if (v.is_null()) {
      (*out)[k] = "";
    } else {
      return Bad(r, column,
                 absl::StrCat("has a non-string value for '", k, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* const kContainerColumns =
    "id, container_type, capsule_id, uuid, container_id, name, project_id, "
    "user_id, image, cpu, cpu_policy, memory, command, entrypoint, status, "
    "status_reason, status_detail, task_state, environment, workdir, ports, "
    "hostname, labels, image_pull_policy, host, restart_policy, interactive, "
    "tty, privileged, auto_remove, auto_heal, image_driver, websocket_url, "
    "websocket_token, security_groups, runtime, disk, registry_id, addresses, "
    "exposed_ports, healthcheck, annotations, cni_metadata, cpuset, "
    "started_at, created_at, updated_at";

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

absl::StatusOr<ContainerRecord> DecodeContainerRow(const pqxx::row& row) {
  ContainerRecord r;
  try {
    r.id = row["id"].as<int64_t>();
    r.container_type =
        static_cast<capsule::ContainerType>(row["container_type"].as<int>());
    r.capsule_id = Num<int64_t>(row["capsule_id"]);
    r.uuid = row["uuid"].c_str();
    r.container_id = Str(row["container_id"]);
    r.name = Str(row["name"]);
    r.project_id = Str(row["project_id"]);
    r.user_id = Str(row["user_id"]);
    r.image = Str(row["image"]);
    r.cpu = Num<double>(row["cpu"]);
    r.cpu_policy = Str(row["cpu_policy"]);
    r.memory = Str(row["memory"]);
    r.status = Str(row["status"]);
    r.status_reason = Str(row["status_reason"]);
    r.status_detail = Str(row["status_detail"]);
    r.task_state = Str(row["task_state"]);
    r.workdir = Str(row["workdir"]);
    r.hostname = Str(row["hostname"]);
    r.image_pull_policy = Str(row["image_pull_policy"]);
    r.host = Str(row["host"]);
    r.interactive = Bool(row["interactive"]);
    r.tty = Bool(row["tty"]);
    r.privileged = Bool(row["privileged"]);
    r.auto_remove = Bool(row["auto_remove"]);
    r.auto_heal = Bool(row["auto_heal"]);
    r.image_driver = Str(row["image_driver"]);
    r.websocket_url = Str(row["websocket_url"]);
    r.websocket_token = Str(row["websocket_token"]);
    r.runtime = Str(row["runtime"]);
    r.disk = Num<int64_t>(row["disk"]);
    r.registry_id = Num<int64_t>(row["registry_id"]);
    for (const char* col : {"started_at", "created_at", "updated_at"}) {
      std::optional<std::string> s = Str(row[col]);
      std::optional<absl::Time> t = s ? ParseDbTime(*s) : std::nullopt;
      if (std::string(col) == "started_at") r.started_at = t;
      if (std::string(col) == "created_at") r.created_at = t;
      if (std::string(col) == "updated_at") r.updated_at = t;
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("row '", r.uuid, "' does not decode: ", e.what()));
  }
  if (absl::Status s = DecodeList(r, "command", row["command"], &r.command);
      !s.ok())
    return s;
  if (absl::Status s =
          DecodeList(r, "entrypoint", row["entrypoint"], &r.entrypoint);
      !s.ok())
    return s;
  if (absl::Status s = DecodeList(r, "security_groups", row["security_groups"],
                                  &r.security_groups);
      !s.ok())
    return s;
  if (absl::Status s =
          DecodeDict(r, "environment", row["environment"], &r.environment);
      !s.ok())
    return s;
  if (absl::Status s = DecodeDict(r, "labels", row["labels"], &r.labels);
      !s.ok())
    return s;
  if (absl::Status s = DecodeDict(r, "restart_policy", row["restart_policy"],
                                  &r.restart_policy);
      !s.ok())
    return s;
  absl::StatusOr<nlohmann::json> ports = Json(r, "ports", row["ports"]);
  if (!ports.ok()) return ports.status();
  if (ports->is_array()) {
    for (const auto& p : *ports) {
      if (p.is_number_integer()) r.ports.push_back(p.get<int64_t>());
    }
  }
  struct JsonCol {
    const char* name;
    nlohmann::json* out;
  };
  for (JsonCol jc : {JsonCol{"addresses", &r.addresses},
                     JsonCol{"exposed_ports", &r.exposed_ports},
                     JsonCol{"healthcheck", &r.healthcheck},
                     JsonCol{"annotations", &r.annotations},
                     JsonCol{"cni_metadata", &r.cni_metadata},
                     JsonCol{"cpuset", &r.cpuset}}) {
    absl::StatusOr<nlohmann::json> j = Json(r, jc.name, row[jc.name]);
    if (!j.ok()) return j.status();
    *jc.out = *std::move(j);
  }
  return r;
}

absl::StatusOr<std::optional<std::string>> EncodeColumnValue(
    const std::string& column, const nlohmann::json& value) {
  if (!IsWritableColumn(column)) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", column, "' is not writable by the agent"));
  }
  if (value.is_null()) return std::optional<std::string>();
  if (IsJsonColumn(column)) return std::optional<std::string>(value.dump());
  if (value.is_string())
    return std::optional<std::string>(value.get<std::string>());
  if (value.is_number_integer()) {
    return std::optional<std::string>(std::to_string(value.get<int64_t>()));
  }
  if (value.is_boolean()) {
    return std::optional<std::string>(value.get<bool>() ? "true" : "false");
  }
  if (value.is_number()) return std::optional<std::string>(value.dump());
  return absl::InvalidArgumentError(
      absl::StrCat("column '", column, "' cannot take ", value.dump()));
}

}  // namespace zun::db
