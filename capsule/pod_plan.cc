#include "capsule/pod_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "capsule/mapper.h"
#include "capsule/status.h"

namespace zun::capsule {
namespace {

using Outcome = PodPlan::Outcome;

std::string ExitText(const std::string& who, const ObservedContainer& o) {
  return absl::StrCat(
      who, " exited with code ", o.exit_code,
      o.reason.empty() ? "" : absl::StrCat(" (", o.reason, ")"));
}

bool Live(const ObservedContainer& o) {
  return o.state != cri::ContainerState::kExited;
}

// A first start (attempt 0, nothing to replace, due now).
PlannedStart FirstStart(const std::string& uuid, bool init) {
  PlannedStart s;
  s.child_uuid = uuid;
  s.init = init;
  return s;
}

void AddRow(PodPlan& plan, RowChange change) {
  if (!change.empty()) plan.rows.push_back(std::move(change));
}

// Sandboxes other than the create's own are left over: all go.
void KillLeftovers(const ObservedPod& pod, const std::string& own,
                   PodPlan& plan) {
  if (pod.present && pod.sandbox_id != own) {
    plan.kill_sandboxes.push_back(pod.sandbox_id);
  }
  for (const auto& [id, attempt] : pod.other_sandboxes) {
    if (id != own) plan.kill_sandboxes.push_back(id);
  }
}

uint32_t NextAttempt(const ObservedPod& pod) {
  if (!pod.present && pod.other_sandboxes.empty()) return 0;
  uint32_t max = pod.present ? pod.sandbox_attempt : 0;
  for (const auto& [id, attempt] : pod.other_sandboxes) {
    max = std::max(max, attempt);
  }
  return max + 1;
}

// The init containers, one at a time: true when all have finished with 0;
// otherwise `plan` says what to do next.
bool PlanInits(const Capsule& c, const ObservedPod& pod, const PlanInput& in,
               PodPlan& plan) {
  for (const ContainerRecord& init : c.init_containers) {
    const std::string who =
        absl::StrCat("init container '", ContainerNameFor(init), "'");
    auto it = pod.containers.find(init.uuid);
    if (it == pod.containers.end()) {
      plan.init = FirstStart(init.uuid, true);
      plan.outcome = Outcome::kProgress;
      return false;
    }
    const ObservedContainer& o = it->second;
    if (Live(o)) {
      if (in.now >= in.init_deadline) {
        plan.outcome = Outcome::kFailed;
        plan.timed_out = true;
        plan.failed_child = init.uuid;
        plan.failure = absl::StrCat(who, " did not finish within ",
                                    absl::FormatDuration(in.init_timeout));
        return false;
      }
      plan.wait_for = init.uuid;
      plan.outcome = Outcome::kWait;
      return false;
    }
    if (o.exit_code == 0) continue;
    const RestartPolicy policy = PolicyFor(c, init);
    const std::string exit_text = ExitText(who, o);
    if (!policy.ShouldRestart(o.exit_code, o.attempt)) {
      plan.outcome = Outcome::kFailed;
      plan.failed_child = init.uuid;
      plan.failure = o.attempt == 0 ? exit_text
                                    : absl::StrCat(exit_text, " after ",
                                                   o.attempt, " restarts");
      return false;
    }
    const absl::Duration delay = RestartDelay(in.backoff, o.attempt);
    const absl::Time finished =
        o.finished_at > 0 ? absl::FromUnixNanos(o.finished_at) : in.now;
    PlannedStart next{init.uuid,        true,      o.attempt + 1, o.id,
                      finished + delay, o.attempt, o.exit_code};
    RowStatus want = StatusOf(init);
    want.status = std::string(kStatusRestarting);
    want.status_reason = exit_text;
    want.status_detail = absl::StrCat("restarts: ", o.attempt + 1);
    AddRow(plan, DiffRow(init, want));
    if (next.at > in.now) {
      plan.wake = next.at;
      plan.outcome = Outcome::kWait;
    } else {
      plan.outcome = Outcome::kProgress;
    }
    plan.init = std::move(next);
    return false;
  }
  return true;
}

PodPlan PlanCreate(const Capsule& c, const ObservedPod& pod,
                   const PlanInput& in) {
  PodPlan plan;
  if (in.cancelled) {
    plan.outcome = Outcome::kCancelled;
    return plan;
  }
  const bool own_up = !in.own_sandbox.empty() && pod.present &&
                      pod.sandbox_id == in.own_sandbox &&
                      pod.state == cri::SandboxState::kReady;
  if (!own_up && !in.own_sandbox.empty()) {
    plan.outcome = Outcome::kFailed;
    plan.failure = "the pod sandbox stopped during the create";
    return plan;
  }
  KillLeftovers(pod, in.own_sandbox, plan);
  if (!own_up) {
    plan.create_sandbox = true;
    plan.sandbox_attempt = NextAttempt(pod);
    return plan;
  }
  if (!PlanInits(c, pod, in, plan)) return plan;
  for (const ContainerRecord& child : c.containers) {
    if (pod.containers.count(child.uuid) == 0) {
      plan.starts.push_back(FirstStart(child.uuid, false));
    }
  }
  if (!plan.starts.empty()) return plan;
  // Up: every init container finished with 0, every container started.
  plan.outcome = Outcome::kUp;
  RowChange cap =
      DiffRow(c.record, RowStatus{std::string(kStatusRunning), std::nullopt,
                                  c.record.status_detail, in.own_sandbox});
  cap.status = true;  // written even if the row says Running already
  if (!in.ports_own_addresses) {
    cap.addresses = AddressesFor(in.network_name, pod.ip);
  }
  cap.set_started_at = true;
  cap.clear_creating = true;
  plan.rows.push_back(std::move(cap));
  for (const ContainerRecord& init : c.init_containers) {
    RowChange r = DiffRow(
        init, RowStatus{std::string(kStatusStopped), std::nullopt,
                        "Completed (exit 0)", pod.containers.at(init.uuid).id});
    AddRow(plan, std::move(r));
  }
  for (const ContainerRecord& child : c.containers) {
    RowChange r = DiffRow(
        child, RowStatus{std::string(kStatusRunning), std::nullopt,
                         std::nullopt, pod.containers.at(child.uuid).id});
    r.set_started_at = true;
    plan.rows.push_back(std::move(r));
  }
  return plan;
}

PodPlan PlanSupervise(const Capsule& c, const ObservedPod& pod,
                      const PlanInput& in) {
  PodPlan plan;
  SyncOptions so;
  so.backoff = in.backoff;
  so.network_name = in.network_name;
  SyncPlan sync = PlanSync(c, pod, in.backoff_steps, so);
  const std::string status = c.record.status.value_or("");
  if (sync.pod_gone) {
    if (status != kStatusRunning && status != kStatusRestarting) {
      plan.outcome = Outcome::kUp;  // not supposed to run
      return plan;
    }
    const RestartPolicy pod_policy = RestartPolicy::FromMap(
        c.record.restart_policy, RestartPolicy::Kind::kAlways);
    if (pod_policy.kind != RestartPolicy::Kind::kNo) {
      plan.outcome = Outcome::kRecreate;
      return plan;
    }
    plan.outcome = Outcome::kPodLost;
    AddRow(plan, DiffRow(c.record,
                         RowStatus{std::string(kStatusError),
                                   "the pod sandbox vanished from the runtime "
                                   "(restart policy no)",
                                   c.record.status_detail, std::nullopt}));
    return plan;
  }
  RowChange cap = DiffRow(c.record, sync.capsule);
  if (!in.ports_own_addresses && !sync.addresses.is_null() &&
      sync.addresses != c.record.addresses) {
    cap.addresses = sync.addresses;
  }
  AddRow(plan, std::move(cap));
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& child : *list) {
      auto it = sync.children.find(child.uuid);
      if (it != sync.children.end()) AddRow(plan, DiffRow(child, it->second));
    }
  }
  for (const PlannedRestart& r : sync.restarts) {
    PlannedStart s{r.child_uuid,       false, r.next_attempt,
                   r.old_container_id, r.at,  r.backoff_step,
                   r.last_exit_code};
    if (s.at <= in.now) {
      plan.starts.push_back(std::move(s));
    } else {
      plan.wake = std::min(plan.wake, s.at);
    }
  }
  plan.outcome = plan.starts.empty() ? Outcome::kUp : Outcome::kProgress;
  return plan;
}

}  // namespace

RowChange DiffRow(const ContainerRecord& row, const RowStatus& want) {
  RowChange c;
  c.uuid = row.uuid;
  c.want = want;
  c.status = want.status.has_value() && row.status != want.status;
  c.status_reason = row.status_reason != want.status_reason;
  c.status_detail = row.status_detail != want.status_detail;
  c.container_id = row.container_id != want.container_id;
  return c;
}

RowStatus StartedRow(const PlannedStart& start, const std::string& id) {
  return RowStatus{std::string(kStatusRunning), std::nullopt,
                   RestartDetail(start.attempt, start.last_exit_code), id};
}

std::vector<RowChange> FailureRows(const Capsule& c, const std::string& reason,
                                   const std::string& failed_child,
                                   bool ports_own_addresses) {
  std::vector<RowChange> rows;
  RowChange cap;
  cap.uuid = c.uuid();
  cap.want =
      RowStatus{std::string(kStatusError), reason, std::nullopt, std::nullopt};
  cap.status = cap.status_reason = cap.container_id = true;
  cap.clear_creating = true;
  if (ports_own_addresses) {
    cap.addresses = nlohmann::json::object();
    cap.clear_cni_metadata = true;
  }
  rows.push_back(std::move(cap));
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& child : *list) {
      RowChange r;
      r.uuid = child.uuid;
      r.want = RowStatus{std::string(kStatusError),
                         child.uuid == failed_child
                             ? reason
                             : "not started: the capsule failed",
                         std::nullopt, std::nullopt};
      r.status = r.status_reason = r.container_id = true;
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

void ApplyRowChanges(const std::vector<RowChange>& rows, Capsule& capsule) {
  std::vector<ContainerRecord*> all = {&capsule.record};
  for (auto& k : capsule.init_containers) all.push_back(&k);
  for (auto& k : capsule.containers) all.push_back(&k);
  for (const RowChange& change : rows) {
    for (ContainerRecord* r : all) {
      if (r->uuid != change.uuid) continue;
      if (change.status) r->status = change.want.status;
      if (change.status_reason) r->status_reason = change.want.status_reason;
      if (change.status_detail) r->status_detail = change.want.status_detail;
      if (change.container_id) r->container_id = change.want.container_id;
      if (change.addresses) r->addresses = *change.addresses;
    }
  }
}

PodPlan PlanPod(const Capsule& capsule, const ObservedPod& observed,
                const PlanInput& input) {
  return input.goal == Goal::kCreate ? PlanCreate(capsule, observed, input)
                                     : PlanSupervise(capsule, observed, input);
}

}  // namespace zun::capsule
