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
  for (const auto& sb : *sandboxes) {
    if (&sb != newest) pod.other_sandboxes.emplace_back(sb.id, sb.attempt);
  }
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
  capsule::PlanInput in;
  in.goal = capsule::Goal::kSupervise;
  in.now = clock_.Now();
  in.backoff = options_.restart_backoff;
  in.network_name = options_.network_name;
  if (c->record.addresses.is_object() && !c->record.addresses.empty()) {
    in.network_name = c->record.addresses.begin().key();
  }
  in.backoff_steps = registry_.BackoffSteps(*c);
  // With Neutron ports the ports own `addresses` (written by the create).
  in.ports_own_addresses = ports_ != nullptr;
  const capsule::PodPlan plan = capsule::PlanPod(*c, *pod, in);
  if (plan.outcome == capsule::PodPlan::Outcome::kRecreate) {
    ZUN_CLOG(kAgent, warn, uuid, "",
             "the pod sandbox vanished from the runtime; recreating it");
    CreateHints hints;
    hints.network = in.network_name;
    Create(
        uuid, db::ActionContext{}, hints, [] {}, /*recreate=*/true);
    return absl::InfiniteFuture();
  }
  if (plan.outcome == capsule::PodPlan::Outcome::kPodLost) {
    ZUN_CLOG(kAgent, warn, uuid, "",
             "the pod sandbox vanished from the runtime");
  }
  if (!plan.rows.empty()) {
    if (absl::Status s = Write(ToPatches(plan.rows)); !s.ok()) return s;
  }
  absl::Time next = plan.wake;
  for (const capsule::PlannedStart& start : plan.starts) {
    if (stopping_.load()) break;
    const absl::Time restart_start = clock_.Now();
    absl::Status s = RestartChild(*c, *pod, start);
    ReportOp("restart", s.ok() ? "ok" : "error", restart_start);
    if (!s.ok()) {
      ZUN_CLOG(kAgent, warn, uuid, "", "restart failed: {}", s.message());
      next = std::min(next, clock_.Now() + options_.restart_backoff.initial);
    }
  }
  return next;
}

absl::Status CapsuleOps::RestartChild(const capsule::Capsule& capsule_in,
                                      const capsule::ObservedPod& pod,
                                      const capsule::PlannedStart& r) {
  capsule::Capsule c = capsule_in;
  if (absl::Status s = ResolveVolumes(c); !s.ok()) return s;
  const capsule::ContainerRecord* child = nullptr;
  for (const auto& k : c.containers) {
    if (k.uuid == r.child_uuid) child = &k;
  }
  if (child == nullptr) return absl::NotFoundError("no such container");
  absl::StatusOr<cri::PodSandboxConfig> sb =
      capsule::BuildSandboxConfig(c, options_.mapper, pod.sandbox_attempt);
  if (!sb.ok()) return sb.status();
  // The runtime puts the new container's log under this config's directory,
  // which carries the capsule's name as it is now.
  pod_logs_.Add(c.uuid(), sb->log_directory);
  if (!r.remove_id.empty()) {
    if (absl::Status s = cri_.RemoveContainer(r.remove_id); !s.ok()) return s;
  }
  absl::StatusOr<std::optional<cri::AuthConfig>> auth = RegistryAuth(c, *child);
  if (!auth.ok()) return auth.status();
  absl::StatusOr<std::string> ref = puller_.Ensure(
      child->image.value_or(""),
      absl::AsciiStrToLower(child->image_pull_policy.value_or("")), *auth,
      &*sb);
  if (!ref.ok()) return ref.status();
  absl::StatusOr<cri::ContainerConfig> cfg = capsule::BuildContainerConfig(
      c, *child, options_.mapper, *ref, r.attempt);
  if (!cfg.ok()) return cfg.status();
  absl::StatusOr<std::string> id =
      cri_.CreateContainer(pod.sandbox_id, *cfg, *sb);
  if (!id.ok()) return id.status();
  if (absl::Status s = cri_.StartContainer(*id); !s.ok()) return s;
  registry_.SetBackoffStep(child->uuid, r.backoff_step + 1);
  ZUN_CLOG(kAgent, info, c.uuid(), "", "restarted container '{}' (restart {})",
           capsule::ContainerNameFor(*child), r.attempt);
  // Every status column is written: the row may lag the runtime.
  capsule::RowChange row;
  row.uuid = child->uuid;
  row.want = capsule::StartedRow(r, *id);
  row.status = row.status_reason = row.status_detail = row.container_id = true;
  row.set_started_at = true;
  return Write(ToPatches({row}));
}

}  // namespace zun::agent
