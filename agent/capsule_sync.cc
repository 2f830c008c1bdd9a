// The supervising half of CapsuleOps (capsule_ops.h): Sync and restarts.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/capsule_ops.h"
#include "capsule/labels.h"
#include "capsule/status.h"
#include "common/logging.h"

namespace zun::agent {

namespace cs = ::zun::capsule;

absl::StatusOr<capsule::ObservedPod> CapsuleOps::Observe(
    const std::string& uuid) {
  capsule::ObservedPod pod;
  cri::SandboxFilter sf;
  sf.labels = capsule::SandboxOwnerLabels(options_.mapper.host, uuid);
  absl::StatusOr<std::vector<cri::SandboxInfo>> sandboxes =
      cri_.ListPodSandbox(sf);
  if (!sandboxes.ok()) return sandboxes.status();
  const cri::SandboxInfo* newest = nullptr;
  for (const auto& sb : *sandboxes) {
    if (newest == nullptr || sb.attempt > newest->attempt ||
        (sb.attempt == newest->attempt && sb.created_at > newest->created_at)) {
      newest = &sb;
    }
  }
  if (newest == nullptr) return pod;
  pod.present = true;
  pod.sandbox_id = newest->id;
  pod.sandbox_attempt = newest->attempt;
  pod.state = newest->state;
  if (pod.state == cri::SandboxState::kReady) {
    // A failed status read fails the observation: half a picture (no IP,
    // no exit codes) must not be written over what the rows say.
    absl::StatusOr<cri::SandboxStatusInfo> st =
        cri_.PodSandboxStatus(pod.sandbox_id);
    if (!st.ok()) return st.status();
    pod.ip = st->ip;
  }
  cri::ContainerFilter cf;
  cf.sandbox_id = pod.sandbox_id;
  absl::StatusOr<std::vector<cri::ContainerInfo>> ctrs =
      cri_.ListContainers(cf);
  if (!ctrs.ok()) return ctrs.status();
  for (const cri::ContainerInfo& ci : *ctrs) {
    auto label = ci.labels.find(std::string(capsule::kLabelContainerUuid));
    if (label == ci.labels.end()) continue;
    auto it = pod.containers.find(label->second);
    if (it != pod.containers.end() && it->second.attempt > ci.attempt) continue;
    capsule::ObservedContainer o;
    o.id = ci.id;
    o.attempt = ci.attempt;
    o.state = ci.state;
    if (ci.state == cri::ContainerState::kExited) {
      absl::StatusOr<cri::ContainerStatusInfo> st = cri_.ContainerStatus(ci.id);
      if (!st.ok()) return st.status();
      o.exit_code = st->exit_code;
      o.reason = st->reason;
      o.started_at = st->started_at;
      o.finished_at = st->finished_at;
    }
    pod.containers[label->second] = o;
  }
  return pod;
}

absl::StatusOr<absl::Time> CapsuleOps::Sync(const std::string& uuid) {
  const absl::Time start = clock_.Now();
  absl::StatusOr<absl::Time> r = SyncOnce(uuid);
  ReportOp("sync", r.ok() ? "ok" : "error", start);
  return r;
}

absl::StatusOr<absl::Time> CapsuleOps::SyncOnce(const std::string& uuid) {
  std::optional<capsule::Capsule> c = registry_.Get(uuid);
  if (!c || c->record.task_state) return absl::InfiniteFuture();
  absl::StatusOr<capsule::ObservedPod> pod = Observe(uuid);
  if (!pod.ok()) return pod.status();
  capsule::SyncOptions so;
  so.backoff = options_.restart_backoff;
  so.network_name = options_.network_name;
  if (c->record.addresses.is_object() && !c->record.addresses.empty()) {
    so.network_name = c->record.addresses.begin().key();
  }
  capsule::SyncPlan plan =
      capsule::PlanSync(*c, *pod, registry_.BackoffSteps(*c), so);
  const std::string status = c->record.status.value_or("");
  if (plan.pod_gone) {
    if (status != cs::kStatusRunning && status != cs::kStatusRestarting) {
      return absl::InfiniteFuture();  // not supposed to run
    }
    const capsule::RestartPolicy pod_policy = capsule::RestartPolicy::FromMap(
        c->record.restart_policy, capsule::RestartPolicy::Kind::kAlways);
    if (pod_policy.kind != capsule::RestartPolicy::Kind::kNo) {
      ZUN_CLOG(kAgent, warn, uuid, "",
               "the pod sandbox vanished from the runtime; recreating it "
               "(restart policy {})",
               pod_policy.ToString());
      CreateHints hints;
      hints.network = so.network_name;
      Create(
          uuid, db::ActionContext{}, hints, [] {}, /*recreate=*/true);
      return absl::InfiniteFuture();
    }
    ZUN_CLOG(kAgent, warn, uuid, "",
             "the pod sandbox vanished from the runtime");
    absl::Status s = Write({std::move(
        db::RowPatch(uuid)
            .Status(cs::kStatusError)
            .StatusReason(
                "the pod sandbox vanished from the runtime (restart policy no)")
            .ContainerId(std::nullopt))});
    if (!s.ok()) return s;
    return absl::InfiniteFuture();
  }
  std::vector<db::RowPatch> patches;
  auto diff = [](const capsule::ContainerRecord& r,
                 const capsule::RowStatus& want) {
    db::RowPatch p(r.uuid);
    if (want.status && r.status != want.status) p.Status(*want.status);
    if (r.status_reason != want.status_reason) {
      p.StatusReason(want.status_reason);
    }
    if (r.status_detail != want.status_detail) {
      p.StatusDetail(want.status_detail);
    }
    if (r.container_id != want.container_id) {
      p.ContainerId(want.container_id);
    }
    return p;
  };
  db::RowPatch cap = diff(c->record, plan.capsule);
  // With Neutron ports the ports own `addresses` (written by the create).
  if (ports_ == nullptr && !plan.addresses.is_null() &&
      plan.addresses != c->record.addresses) {
    cap.Addresses(plan.addresses);
  }
  if (!cap.empty()) patches.push_back(std::move(cap));
  for (const auto* list : {&c->init_containers, &c->containers}) {
    for (const auto& child : *list) {
      auto it = plan.children.find(child.uuid);
      if (it == plan.children.end()) continue;
      db::RowPatch p = diff(child, it->second);
      if (!p.empty()) patches.push_back(std::move(p));
    }
  }
  if (!patches.empty()) {
    if (absl::Status s = Write(patches); !s.ok()) return s;
  }
  absl::Time next = absl::InfiniteFuture();
  const absl::Time now = clock_.Now();
  for (const capsule::PlannedRestart& r : plan.restarts) {
    if (r.at > now) {
      next = std::min(next, r.at);
      continue;
    }
    if (stopping_.load()) break;
    const absl::Time restart_start = clock_.Now();
    absl::Status s = RestartChild(*c, r);
    ReportOp("restart", s.ok() ? "ok" : "error", restart_start);
    if (!s.ok()) {
      ZUN_CLOG(kAgent, warn, uuid, "", "restart failed: {}", s.message());
      next = std::min(next, now + options_.restart_backoff.initial);
    }
  }
  return next;
}

absl::Status CapsuleOps::RestartChild(const capsule::Capsule& capsule_in,
                                      const capsule::PlannedRestart& r) {
  capsule::Capsule c = capsule_in;
  if (absl::Status s = ResolveVolumes(c); !s.ok()) return s;
  const capsule::ContainerRecord* child = nullptr;
  for (const auto& k : c.containers) {
    if (k.uuid == r.child_uuid) child = &k;
  }
  if (child == nullptr) return absl::NotFoundError("no such container");
  absl::StatusOr<capsule::ObservedPod> pod = Observe(c.uuid());
  if (!pod.ok()) return pod.status();
  if (!pod->present)
    return absl::FailedPreconditionError("the sandbox is gone");
  absl::StatusOr<cri::PodSandboxConfig> sb =
      capsule::BuildSandboxConfig(c, options_.mapper, pod->sandbox_attempt);
  if (!sb.ok()) return sb.status();
  if (!r.old_container_id.empty()) {
    if (absl::Status s = cri_.RemoveContainer(r.old_container_id); !s.ok())
      return s;
  }
  absl::StatusOr<std::optional<cri::AuthConfig>> auth = RegistryAuth(c, *child);
  if (!auth.ok()) return auth.status();
  absl::StatusOr<std::string> ref = puller_.Ensure(
      child->image.value_or(""),
      absl::AsciiStrToLower(child->image_pull_policy.value_or("")), *auth,
      &*sb);
  if (!ref.ok()) return ref.status();
  absl::StatusOr<cri::ContainerConfig> cfg = capsule::BuildContainerConfig(
      c, *child, options_.mapper, *ref, r.next_attempt);
  if (!cfg.ok()) return cfg.status();
  absl::StatusOr<std::string> id =
      cri_.CreateContainer(pod->sandbox_id, *cfg, *sb);
  if (!id.ok()) return id.status();
  if (absl::Status s = cri_.StartContainer(*id); !s.ok()) return s;
  registry_.SetBackoffStep(child->uuid, r.backoff_step + 1);
  const std::optional<std::string> detail =
      capsule::RestartDetail(r.next_attempt, r.last_exit_code);
  ZUN_CLOG(kAgent, info, c.uuid(), "", "restarted container '{}' (restart {})",
           capsule::ContainerNameFor(*child), r.next_attempt);
  return Write({std::move(db::RowPatch(child->uuid)
                              .ContainerId(*id)
                              .Status(cs::kStatusRunning)
                              .StatusReason(std::nullopt)
                              .StatusDetail(detail)
                              .StartedAt(clock_.Now()))});
}

}  // namespace zun::agent
