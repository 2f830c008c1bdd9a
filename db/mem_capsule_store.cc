#include "db/mem_capsule_store.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "common/uuid.h"

namespace zun::db {

using capsule::Capsule;
using capsule::ContainerRecord;

void MemCapsuleStore::Put(const Capsule& c) {
  absl::MutexLock l(&mu_);
  capsules_[c.uuid()] = c;
}

std::optional<Capsule> MemCapsuleStore::Get(const std::string& uuid) {
  absl::MutexLock l(&mu_);
  auto it = capsules_.find(uuid);
  if (it == capsules_.end()) return std::nullopt;
  return it->second;
}

void MemCapsuleStore::SetUnavailable(bool down) {
  absl::MutexLock l(&mu_);
  down_ = down;
}

int64_t MemCapsuleStore::rows_written() {
  absl::MutexLock l(&mu_);
  return rows_written_;
}

int64_t MemCapsuleStore::write_transactions() {
  absl::MutexLock l(&mu_);
  return write_txns_;
}

std::vector<std::string> MemCapsuleStore::actions() {
  absl::MutexLock l(&mu_);
  return actions_;
}

absl::Status MemCapsuleStore::CheckUp() {
  if (down_) return absl::UnavailableError("database unreachable (test)");
  return absl::OkStatus();
}

ContainerRecord* MemCapsuleStore::FindRow(const std::string& uuid) {
  for (auto& [id, c] : capsules_) {
    if (c.record.uuid == uuid) return &c.record;
    for (auto* list : {&c.init_containers, &c.containers}) {
      for (auto& child : *list) {
        if (child.uuid == uuid) return &child;
      }
    }
  }
  return nullptr;
}

absl::StatusOr<Capsule> MemCapsuleStore::LoadCapsule(std::string_view uuid) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  auto it = capsules_.find(std::string(uuid));
  if (it == capsules_.end()) {
    return absl::NotFoundError(
        absl::StrCat("capsule '", AV(uuid), "' not found"));
  }
  return it->second;
}

absl::StatusOr<std::vector<Capsule>> MemCapsuleStore::ListCapsules(
    std::string_view host) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  std::vector<Capsule> out;
  for (const auto& [id, c] : capsules_) {
    if (c.record.host == std::string(host)) out.push_back(c);
  }
  return out;
}

void MemCapsuleStore::SetClaimError(absl::Status error, int times) {
  absl::MutexLock l(&mu_);
  claim_error_ = std::move(error);
  claim_error_times_ = times;
}

int64_t MemCapsuleStore::claims() {
  absl::MutexLock l(&mu_);
  return claims_;
}

absl::StatusOr<Capsule> MemCapsuleStore::ClaimCapsule(
    std::string_view uuid, std::string_view host, std::string_view task_state) {
  absl::MutexLock l(&mu_);
  ++claims_;
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  if (!claim_error_.ok() && claim_error_times_ != 0) {
    if (claim_error_times_ > 0) --claim_error_times_;
    return claim_error_;
  }
  auto it = capsules_.find(std::string(uuid));
  if (it == capsules_.end()) {
    return absl::NotFoundError(
        absl::StrCat("capsule '", AV(uuid), "' not found"));
  }
  ContainerRecord& r = it->second.record;
  if (r.host && !r.host->empty() && *r.host != std::string(host)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "capsule '", AV(uuid), "' is claimed by host '", *r.host, "'"));
  }
  r.host = std::string(host);
  if (!r.task_state || *r.task_state == std::string(task_state)) {
    r.task_state = std::string(task_state);
  }
  ++rows_written_;
  ++write_txns_;
  return it->second;
}

absl::Status MemCapsuleStore::Apply(const std::vector<RowPatch>& patches) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  for (const RowPatch& p : patches) {
    for (const auto& [col, v] : p.values()) {
      if (!IsWritableColumn(col)) {
        return absl::InvalidArgumentError(
            absl::StrCat("column '", col, "' is not writable"));
      }
    }
  }
  bool wrote = false;
  for (const RowPatch& p : patches) {
    if (p.empty()) continue;
    ContainerRecord* r = FindRow(p.uuid());
    if (r == nullptr) continue;
    ApplyPatchTo(p, *r);
    ++rows_written_;
    wrote = true;
  }
  if (wrote) ++write_txns_;
  return absl::OkStatus();
}

absl::Status MemCapsuleStore::DeleteCapsule(std::string_view uuid) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  if (capsules_.erase(std::string(uuid)) > 0) {
    ++rows_written_;
    ++write_txns_;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemCapsuleStore::StartAction(std::string_view uuid,
                                                     std::string_view action,
                                                     std::string_view event,
                                                     const ActionContext& ctx) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  actions_.push_back(absl::StrCat(AV(uuid), " ", AV(action), " ", AV(event),
                                  " ", ctx.request_id, " pending"));
  const int64_t id = static_cast<int64_t>(actions_.size());
  events_[id] = actions_.size() - 1;
  return id;
}

absl::Status MemCapsuleStore::FinishAction(int64_t event_id, bool success,
                                           std::string_view) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  auto it = events_.find(event_id);
  if (it == events_.end()) return absl::NotFoundError("no such event");
  std::string& a = actions_[it->second];
  a = a.substr(0, a.rfind(' ') + 1) + (success ? "Success" : "Error");
  return absl::OkStatus();
}

absl::StatusOr<ServiceRecord> MemCapsuleStore::ReportService(
    std::string_view host, std::string_view availability_zone) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  auto [it, inserted] = services_.try_emplace(std::string(host));
  ServiceRecord& svc = it->second;
  if (inserted) {
    svc.id = static_cast<int64_t>(services_.size());
    svc.host = std::string(host);
    svc.binary = "zun-compute";
  }
  ++svc.report_count;
  svc.last_seen_up = absl::Now();  // the database's now()
  svc.availability_zone = std::string(availability_zone);
  last_service_ = svc.host;
  return svc;
}

absl::StatusOr<CapsuleStore::ComputeNodeIds> MemCapsuleStore::UpsertComputeNode(
    const ComputeNodeRecord& node) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  ComputeNodeRecord n = node;
  if (auto old = nodes_.find(node.hostname); old != nodes_.end()) {
    n.uuid = old->second.uuid;
    if (n.rp_uuid.empty()) n.rp_uuid = old->second.rp_uuid;
  }
  if (n.uuid.empty()) n.uuid = NewUuid4();
  if (n.rp_uuid.empty()) n.rp_uuid = n.uuid;
  nodes_[n.hostname] = n;
  last_node_ = n.hostname;
  return ComputeNodeIds{n.uuid, n.rp_uuid};
}

absl::StatusOr<std::map<std::string, CapsuleStore::ContainerBrief>>
MemCapsuleStore::BriefContainers(const std::vector<std::string>& uuids) {
  absl::MutexLock l(&mu_);
  if (absl::Status up = CheckUp(); !up.ok()) return up;
  std::map<std::string, ContainerBrief> all;
  auto brief = [](const capsule::ContainerRecord& r) {
    ContainerBrief b;
    b.container_type = static_cast<int>(r.container_type);
    b.status = r.status.value_or("");
    b.host = r.host;
    b.task_state = r.task_state;
    b.created_at = r.created_at;
    return b;
  };
  for (const auto& [uuid, c] : capsules_) {
    all[uuid] = brief(c.record);
    for (const auto* list : {&c.containers, &c.init_containers}) {
      for (const auto& child : *list) all[child.uuid] = brief(child);
    }
  }
  std::map<std::string, ContainerBrief> out;
  for (const std::string& u : uuids) {
    if (auto it = all.find(u); it != all.end()) out[u] = it->second;
  }
  return out;
}

absl::Status MemCapsuleStore::Ping() {
  absl::MutexLock l(&mu_);
  return CheckUp();
}

std::optional<ComputeNodeRecord> MemCapsuleStore::compute_node() {
  absl::MutexLock l(&mu_);
  auto it = nodes_.find(last_node_);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

std::optional<ServiceRecord> MemCapsuleStore::service() {
  absl::MutexLock l(&mu_);
  auto it = services_.find(last_service_);
  if (it == services_.end()) return std::nullopt;
  return it->second;
}

}  // namespace zun::db
