#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/uuid.h"
#include "db/pg_capsule_store.h"
#include "db/pg_internal.h"
#include "db/pg_pool.h"
#include "db/row_codec.h"

// The node's rows: zun_service (heartbeat) and compute_node (inventory).
namespace zun::db {

using internal::kNow;

absl::StatusOr<ServiceRecord> PgCapsuleStore::ReportService(
    std::string_view host, std::string_view availability_zone) {
  absl::StatusOr<ServiceRecord> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    Work t(c);
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

absl::StatusOr<CapsuleStore::ComputeNodeIds> PgCapsuleStore::UpsertComputeNode(
    const ComputeNodeRecord& n) {
  absl::StatusOr<ComputeNodeIds> out = absl::UnknownError("not run");
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    Work t(c);
    pqxx::result existing =
        SqlParams()
            .Add(n.hostname)
            .Exec(t,
                  "SELECT uuid, rp_uuid FROM compute_node WHERE hostname = $1 "
                  "ORDER BY created_at LIMIT 1 FOR UPDATE");
    std::string uuid = !existing.empty() ? existing[0][0].c_str()
                       : !n.uuid.empty() ? n.uuid
                                         : NewUuid4();
    // An existing rp_uuid stays unless the caller names another.
    const std::string rp_uuid = !n.rp_uuid.empty()  ? n.rp_uuid
                                : !existing.empty() ? existing[0][1].c_str()
                                                    : uuid;
    SqlParams p;
    p.Add(uuid)
        .Add(rp_uuid)
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
        .Add(n.pci_stats)
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
    out = ComputeNodeIds{uuid, rp_uuid};
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::map<std::string, CapsuleStore::ContainerBrief>>
PgCapsuleStore::BriefContainers(const std::vector<std::string>& uuids) {
  std::map<std::string, ContainerBrief> out;
  if (uuids.empty()) return out;
  absl::Status s = pool_->Run([&](pqxx::connection& c) {
    ReadTransaction t(c);
    nlohmann::json list = uuids;
    pqxx::result rows = SqlParams()
                            .Add(list.dump())
                            .Exec(t,
                                  "SELECT uuid, container_type, status, host, "
                                  "task_state, created_at "
                                  "FROM container WHERE uuid IN (SELECT "
                                  "json_array_elements_text($1::json))");
    out.clear();
    for (const auto& row : rows) {
      ContainerBrief b;
      b.container_type =
          row["container_type"].is_null() ? 0 : row["container_type"].as<int>();
      b.status = row["status"].is_null() ? "" : row["status"].c_str();
      if (!row["host"].is_null()) b.host = row["host"].c_str();
      if (!row["task_state"].is_null())
        b.task_state = row["task_state"].c_str();
      if (!row["created_at"].is_null()) {
        b.created_at = ParseDbTime(row["created_at"].c_str());
      }
      out[row["uuid"].c_str()] = std::move(b);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace zun::db
