#include "agent/capsule_ops.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "capsule/labels.h"
#include "capsule/status.h"
#include "common/fernet.h"
#include "common/logging.h"
#include "node/host_fs.h"

namespace zun::agent {

namespace cs = ::zun::capsule;

CapsuleOps::CapsuleOps(db::CapsuleStore& store, cri::CriClient& cri,
                       Clock& clock, CapsuleRegistry& registry,
                       OpsOptions options, PortBinder* ports)
    : store_(store),
      cri_(cri),
      clock_(clock),
      registry_(registry),
      options_(std::move(options)),
      ports_(ports),
      puller_(cri),
      pod_logs_(options_.mapper.log_root),
      helpers_(std::make_unique<KeyedExecutor>(
          2 * std::max(1, options_.start_helpers), kIdleThreadTimeout,
          "start-helper")) {}

absl::Status CapsuleOps::RetryDbStatusWith(
    const BackoffPolicy& policy, int attempts,
    const std::function<absl::Status()>& call) {
  return RetryDbWith<bool>(policy, attempts,
                           [&]() -> absl::StatusOr<bool> {
                             absl::Status s = call();
                             if (!s.ok()) return s;
                             return true;
                           })
      .status();
}

bool CapsuleOps::IsTransient(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kAborted;
}

void CapsuleOps::Stop() {
  stopping_.store(true);
  stop_waker_.Latch();
  absl::MutexLock l(&cancel_mu_);
  for (auto& [uuid, token] : tokens_) token->waker.Latch();
}

std::shared_ptr<CapsuleOps::OpToken> CapsuleOps::Register(
    const std::string& uuid) {
  auto token = std::make_shared<OpToken>();
  absl::MutexLock l(&cancel_mu_);
  if (stopping_.load()) token->waker.Latch();
  tokens_[uuid] = token;
  return token;
}

void CapsuleOps::Unregister(const std::string& uuid) {
  absl::MutexLock l(&cancel_mu_);
  tokens_.erase(uuid);
}

void CapsuleOps::RequestCancel(const std::string& uuid) {
  absl::MutexLock l(&cancel_mu_);
  auto it = tokens_.find(uuid);
  if (it == tokens_.end()) return;
  it->second->cancelled.store(true);
  it->second->waker.Latch();
}

bool CapsuleOps::Wait(absl::Duration d, OpToken* token) {
  if (stopping_.load()) return false;
  if (token == nullptr) return !clock_.WaitFor(d, stop_waker_);
  if (token->cancelled.load()) return false;
  clock_.WaitFor(d, token->waker);
  return !stopping_.load() && !token->cancelled.load();
}

absl::Status CapsuleOps::RetryDbStatus(
    const std::function<absl::Status()>& call) {
  absl::StatusOr<bool> r = RetryDb<bool>([&]() -> absl::StatusOr<bool> {
    absl::Status s = call();
    if (!s.ok()) return s;
    return true;
  });
  return r.status();
}

absl::Status CapsuleOps::Write(const std::vector<db::RowPatch>& patches) {
  absl::Status s = RetryDbStatus([&] { return store_.Apply(patches); });
  if (s.ok()) registry_.ApplyPatches(patches);
  return s;
}

absl::Status CapsuleOps::WriteAndFinish(
    const std::vector<db::RowPatch>& patches, std::optional<int64_t> event,
    bool success, std::string_view message) {
  if (!event) return Write(patches);
  absl::Status s = RetryDbStatus([&] {
    return store_.ApplyAndFinishAction(patches, *event, success, message);
  });
  if (s.ok()) registry_.ApplyPatches(patches);
  return s;
}

absl::Status CapsuleOps::RemoveSandboxes(
    const std::string& uuid, const std::optional<std::string>& recorded_id,
    absl::Duration grace) {
  cri::SandboxFilter filter;
  filter.labels = capsule::SandboxOwnerLabels(options_.mapper.host, uuid);
  absl::StatusOr<std::vector<cri::SandboxInfo>> found =
      cri_.ListPodSandbox(filter);
  if (!found.ok()) return found.status();
  std::vector<std::string> ids;
  for (const auto& sb : *found) ids.push_back(sb.id);
  if (recorded_id && !recorded_id->empty() &&
      std::find(ids.begin(), ids.end(), *recorded_id) == ids.end()) {
    ids.push_back(*recorded_id);
  }
  for (const std::string& id : ids) {
    if (grace > absl::ZeroDuration()) {
      cri::ContainerFilter cf;
      cf.sandbox_id = id;
      cf.state = cri::ContainerState::kRunning;
      absl::StatusOr<std::vector<cri::ContainerInfo>> running =
          cri_.ListContainers(cf);
      if (running.ok()) {
        for (const auto& ctr : *running) {
          absl::Status s = cri_.StopContainer(ctr.id, grace);
          if (!s.ok()) {
            ZUN_LOG(kAgent, warn, "stopping container '{}' of '{}': {}", ctr.id,
                    uuid, s.message());
          }
        }
      }
    }
    if (absl::Status s = cri_.StopPodSandbox(id); !s.ok()) return s;
    if (absl::Status s = cri_.RemovePodSandbox(id); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void CapsuleOps::RemovePodCgroups(const std::string& uuid) {
  capsule::Capsule c;
  c.record.uuid = uuid;
  const std::string parent = capsule::CgroupParentFor(c, options_.mapper);
  if (parent.empty()) return;
  if (absl::Status s = node::RemovePodCgroup(options_.cgroup_fs_root, parent);
      !s.ok()) {
    ZUN_LOG(kAgent, warn, "pod cgroup of '{}' not removed: {}", uuid,
            s.message());
  }
}

void CapsuleOps::RemovePodFiles(const capsule::Capsule& c) {
  // Its log directory under its name now, and under older names if it was
  // renamed since: each removed once.
  pod_logs_.Add(c.uuid(), capsule::LogDirectoryFor(c, options_.mapper));
  RemovePodLogs(c.uuid(), false);
  // Local volumes another capsule of this node mounts stay (the other
  // capsules are looked at only when this one has a local volume).
  bool has_local = false;
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const capsule::ContainerRecord& child : *list) {
      for (const capsule::VolumeMount& v : child.volumes) {
        has_local = has_local || v.provider == "local";
      }
    }
  }
  if (!has_local) return;
  std::set<std::string> shared;
  registry_.ForEach([&](const capsule::Capsule& other) {
    if (other.uuid() == c.uuid()) return;
    for (const auto* list : {&other.init_containers, &other.containers}) {
      for (const capsule::ContainerRecord& child : *list) {
        for (const capsule::VolumeMount& v : child.volumes) {
          shared.insert(v.volume_uuid);
        }
      }
    }
  });
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const capsule::ContainerRecord& child : *list) {
      for (const capsule::VolumeMount& v : child.volumes) {
        if (options_.volume_dir.empty() || v.provider != "local" ||
            v.volume_uuid.empty() ||
            v.volume_uuid.find('/') != std::string::npos ||
            shared.contains(v.volume_uuid)) {
          continue;
        }
        if (absl::Status s = node::RemoveTreeUnder(
                options_.volume_dir, options_.volume_dir + "/" + v.volume_uuid);
            !s.ok()) {
          ZUN_CLOG(kAgent, warn, c.uuid(), "", "not removed: {}", s.message());
        }
      }
    }
  }
}

void CapsuleOps::RemovePodLogs(const std::string& uuid, bool list_root) {
  const std::string& root = options_.mapper.log_root;
  if (root.empty() || uuid.empty() || uuid.find('/') != std::string::npos) {
    return;
  }
  std::vector<std::string> dirs = pod_logs_.Take(uuid);
  if (list_root) {
    for (std::string& dir : node::EntriesEndingWith(root, "_" + uuid)) {
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
        dirs.push_back(std::move(dir));
      }
    }
  }
  for (const std::string& dir : dirs) {
    if (absl::Status s = node::RemoveTreeUnder(root, dir); !s.ok()) {
      ZUN_CLOG(kAgent, warn, uuid, "", "not removed: {}", s.message());
    }
  }
}

absl::StatusOr<std::optional<cri::AuthConfig>> CapsuleOps::RegistryAuth(
    const capsule::Capsule& c, const capsule::ContainerRecord& child) const {
  if (!child.registry_id) return std::nullopt;
  auto it = c.registries.find(*child.registry_id);
  if (it == c.registries.end()) return std::nullopt;
  cri::AuthConfig a;
  a.username = it->second.username;
  a.server_address = it->second.domain;
  if (!it->second.password.empty()) {
    absl::StatusOr<std::string> plain =
        FernetDecrypt(options_.registry_key, it->second.password);
    if (!plain.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the password of registry '", it->second.domain, "' (id ",
          *child.registry_id,
          ") does not decrypt with this node's [DEFAULT] "
          "auth_encryption_key: it must be the key of the Zun API"));
    }
    a.password = *std::move(plain);
  }
  return a;
}

absl::Status CapsuleOps::ReleasePorts(const std::string& uuid,
                                      const nlohmann::json& addresses) {
  if (ports_ == nullptr) return absl::OkStatus();
  absl::Status s = ports_->Release(uuid, addresses);
  if (!s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("releasing the Neutron ports: ", s.message()));
  }
  return s;
}

void CapsuleOps::ReleaseAllocation(const std::string& uuid) const {
  if (options_.release_allocation) options_.release_allocation(uuid);
}

void CapsuleOps::ReportOp(std::string_view op, std::string_view result,
                          absl::Time start) const {
  if (options_.on_operation)
    options_.on_operation(op, result, clock_.Now() - start);
}

absl::Status CapsuleOps::Delete(const std::string& uuid, bool force,
                                const db::ActionContext& ctx) {
  const absl::Time start = clock_.Now();
  absl::Status s = DeleteOnce(uuid, force, ctx);
  ReportOp("delete", s.ok() ? "ok" : "error", start);
  return s;
}

absl::Status CapsuleOps::DeleteOnce(const std::string& uuid, bool force,
                                    const db::ActionContext& ctx) {
  absl::StatusOr<capsule::Capsule> loaded =
      RetryDb<capsule::Capsule>([&] { return store_.LoadCapsule(uuid); });
  if (loaded.status().code() == absl::StatusCode::kNotFound) {
    ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "already deleted");
    registry_.Remove(uuid);
    ReleaseAllocation(uuid);
    // Leftovers (if any) still go: the sandbox may outlive its row.
    absl::Status s = RemoveSandboxes(uuid, std::nullopt, absl::ZeroDuration());
    RemovePodCgroups(uuid);
    if (s.ok()) s = ReleasePorts(uuid, nullptr);
    return s;
  }
  if (!loaded.ok()) return loaded.status();
  const capsule::ContainerRecord& rec = loaded->record;
  if (rec.host && !rec.host->empty() && *rec.host != options_.mapper.host) {
    ZUN_CLOG(kAgent, warn, uuid, ctx.request_id,
             "not deleting: the capsule belongs to host '{}'", *rec.host);
    registry_.Remove(uuid);
    return absl::FailedPreconditionError("capsule belongs to another host");
  }
  registry_.Put(*loaded);
  ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "deleting capsule '{}'{}",
           rec.name.value_or(""), force ? " (force)" : "");
  absl::Status s =
      RemoveSandboxes(uuid, rec.container_id,
                      force ? absl::ZeroDuration() : options_.stop_grace);
  // containerd ran CNI DEL in StopPodSandbox (the row still there for
  // zun-cni-daemon); the ports go before the row that names them.
  if (s.ok()) s = ReleasePorts(uuid, rec.addresses);
  if (s.ok()) {
    RemovePodCgroups(uuid);
    RemovePodFiles(*loaded);
    s = RetryDbStatus([&] { return store_.DeleteCapsule(uuid); });
    if (s.ok()) {
      registry_.Remove(uuid);
      ReleaseAllocation(uuid);
      ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "deleted");
      return s;
    }
  }
  ZUN_CLOG(kAgent, warn, uuid, ctx.request_id, "delete failed: {}",
           s.message());
  Write(
      {std::move(db::RowPatch(uuid)
                     .Status(cs::kStatusError)
                     .StatusReason(absl::StrCat("delete failed: ", s.message()))
                     .ClearTaskStateIf(cs::kTaskDeleting))})
      .IgnoreError();
  return s;
}

void CapsuleOps::Refuse(const std::string& uuid, const db::ActionContext& ctx,
                        const std::string& reason) {
  const absl::Time start = clock_.Now();
  ZUN_CLOG(kAgent, warn, uuid, ctx.request_id, "refused: {}", reason);
  absl::StatusOr<int64_t> event = RetryDb<int64_t>([&] {
    return store_.StartAction(uuid, "create", "compute__do_container_create",
                              ctx);
  });
  std::vector<db::RowPatch> patches;
  patches.push_back(std::move(db::RowPatch(uuid)
                                  .Status(cs::kStatusError)
                                  .StatusReason(reason)
                                  .ClearTaskStateIf(cs::kTaskCreating)));
  absl::Status s =
      event.ok() ? RetryDbStatus([&] {
        return store_.ApplyAndFinishAction(patches, *event, false, reason);
      })
                 : RetryDbStatus([&] { return store_.Apply(patches); });
  if (!s.ok()) {
    ZUN_CLOG(kAgent, error, uuid, ctx.request_id,
             "cannot record the refusal: {}", s.message());
  }
  ReleaseAllocation(uuid);
  ReportOp("create", "refused", start);
}

absl::StatusOr<bool> CapsuleOps::RemoveOrphan(const std::string& uuid) {
  const absl::Time start = clock_.Now();
  absl::StatusOr<bool> r = RemoveOrphanOnce(uuid);
  ReportOp("orphan_remove", !r.ok() ? "error" : (*r ? "ok" : "skipped"), start);
  return r;
}

absl::StatusOr<bool> CapsuleOps::RemoveOrphanOnce(const std::string& uuid) {
  absl::StatusOr<capsule::Capsule> c = store_.LoadCapsule(uuid);
  if (c.ok()) {
    const bool ours = c->record.host.value_or("") == options_.mapper.host;
    const bool failed = !c->record.container_id &&
                        c->record.status.value_or("") == cs::kStatusError;
    if (ours && !failed) {
      registry_.Put(*c);  // not an orphan: we had not heard of it yet
      return false;
    }
  } else if (c.status().code() != absl::StatusCode::kNotFound) {
    return c.status();
  }
  ZUN_CLOG(kAgent, warn, uuid, "",
           "removing a sandbox that belongs to no capsule of this host");
  if (absl::Status s =
          RemoveSandboxes(uuid, std::nullopt, absl::ZeroDuration());
      !s.ok()) {
    return s;
  }
  RemovePodCgroups(uuid);
  if (!c.ok()) {
    // No row names the capsule any more: ports still bound to it are left
    // by a create or delete that crashed.
    if (absl::Status s = ReleasePorts(uuid, nullptr); !s.ok()) return s;
  }
  // Its files go too: all of them when the row tells which, else the logs.
  if (c.ok() && c->record.host.value_or("") == options_.mapper.host) {
    RemovePodFiles(*c);
  } else {
    RemovePodLogs(uuid, true);
  }
  return true;
}

absl::StatusOr<capsule::Capsule> CapsuleOps::Show(const std::string& uuid) {
  const absl::Time start = clock_.Now();
  absl::StatusOr<capsule::Capsule> c = store_.LoadCapsule(uuid);
  if (!c.ok()) {
    // The database is down: serve what we know.
    if (IsTransient(c.status())) {
      if (auto known = registry_.Get(uuid)) {
        ReportOp("show", "ok", start);
        return *known;
      }
    }
    ReportOp("show",
             c.status().code() == absl::StatusCode::kNotFound ? "not_found"
                                                              : "error",
             start);
    return c;
  }
  ReportOp("show", "ok", start);
  absl::StatusOr<capsule::ObservedPod> pod = Observe(uuid);
  if (!pod.ok() || c->record.task_state) return c;  // in flux: rows as they are
  capsule::PlanInput in;
  in.goal = capsule::Goal::kSupervise;
  in.now = clock_.Now();
  in.backoff = options_.restart_backoff;
  in.network_name = options_.network_name;
  in.backoff_steps = registry_.BackoffSteps(*c);
  in.ports_own_addresses = ports_ != nullptr;
  const capsule::PodPlan plan = capsule::PlanPod(*c, *pod, in);
  if (plan.outcome == capsule::PodPlan::Outcome::kRecreate &&
      c->record.status.value_or("") == cs::kStatusRunning) {
    c->record.status = std::string(cs::kStatusError);
    c->record.status_reason = "the pod sandbox is gone from the runtime";
    return c;
  }
  // What the rows will say once the supervision writes them.
  capsule::ApplyRowChanges(plan.rows, *c);
  return c;
}

}  // namespace zun::agent
