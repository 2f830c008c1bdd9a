// The executor half of CapsuleOps (capsule_ops.h): carries out the plans of
// capsule::PlanPod. A create observes (unless nothing can be there yet),
// plans, does what the plan says, updates what it knows of the runtime from
// the results of its own calls, and plans again, until the plan says the
// capsule is up, failed or cancelled. It decides nothing itself.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "agent/capsule_create_run.h"
#include "agent/capsule_ops.h"
#include "capsule/labels.h"
#include "capsule/pod_plan.h"
#include "capsule/status.h"
#include "common/logging.h"
#include "node/host_fs.h"

namespace zun::agent {

using capsule::ContainerRecord;
using Outcome = capsule::PodPlan::Outcome;

namespace {

const ContainerRecord* FindChild(const capsule::Capsule& c,
                                 const std::string& uuid) {
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& child : *list) {
      if (child.uuid == uuid) return &child;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<db::RowPatch> CapsuleOps::ToPatches(
    const std::vector<capsule::RowChange>& rows) const {
  std::vector<db::RowPatch> patches;
  const absl::Time now = clock_.Now();
  for (const capsule::RowChange& r : rows) {
    db::RowPatch p(r.uuid);
    if (r.status && r.want.status) p.Status(*r.want.status);
    if (r.status_reason) p.StatusReason(r.want.status_reason);
    if (r.status_detail) p.StatusDetail(r.want.status_detail);
    if (r.container_id) p.ContainerId(r.want.container_id);
    if (r.addresses) p.Addresses(*r.addresses);
    if (r.clear_cni_metadata) p.CniMetadata(nullptr);
    if (r.set_started_at) p.StartedAt(now);
    if (r.clear_creating) p.ClearTaskStateIf(capsule::kTaskCreating);
    if (!p.empty()) patches.push_back(std::move(p));
  }
  return patches;
}

absl::Status CapsuleOps::Converge(CreateRun& run) {
  capsule::PlanInput in;
  in.goal = capsule::Goal::kCreate;
  in.backoff = options_.restart_backoff;
  in.network_name =
      run.hints.network.empty() ? options_.network_name : run.hints.network;
  in.init_timeout = options_.init_container_timeout;
  in.init_deadline = clock_.Now() + options_.init_container_timeout;
  in.ports_own_addresses = ports_ != nullptr;
  absl::Duration poll = absl::Milliseconds(20);
  for (;;) {
    in.now = clock_.Now();
    in.cancelled = run.cancelled();
    in.own_sandbox = run.sandbox_id;
    const capsule::PodPlan plan = capsule::PlanPod(run.capsule, run.pod, in);
    switch (plan.outcome) {
      case Outcome::kCancelled:
        return CancelledByDelete();
      case Outcome::kFailed:
        if (!plan.failed_child.empty()) run.SetFailed(plan.failed_child);
        return plan.timed_out ? absl::DeadlineExceededError(plan.failure)
                              : absl::FailedPreconditionError(plan.failure);
      case Outcome::kUp:
        if (run.ip_fetch) {
          // The address is read beside the starts; plan again with it.
          if (absl::Status s = AwaitSandboxIp(run); !s.ok()) return s;
          continue;
        }
        return WriteAndFinish(ToPatches(plan.rows), run.event_id, true, "");
      default:
        break;
    }
    if (stopping_.load()) return absl::AbortedError("the agent is stopping");
    if (!plan.rows.empty()) {
      Write(ToPatches(plan.rows)).IgnoreError();
      // What we wrote is what the rows say now: the next plan diffs
      // against it.
      capsule::ApplyRowChanges(plan.rows, run.capsule);
    }
    if (absl::Status s = KillSandboxes(run, plan.kill_sandboxes); !s.ok()) {
      return s;
    }
    if (plan.create_sandbox) {
      if (absl::Status s = RunSandbox(run, plan.sandbox_attempt); !s.ok()) {
        return s;
      }
      continue;
    }
    if (plan.init) {
      const capsule::PlannedStart& init = *plan.init;
      if (init.at > clock_.Now()) {
        ZUN_CLOG(
            kAgent, info, run.uuid, run.ctx.request_id,
            "restarting init container '{}' after {}",
            capsule::ContainerNameFor(*FindChild(run.capsule, init.child_uuid)),
            absl::FormatDuration(init.at - clock_.Now()));
        Wait(init.at - clock_.Now(), run.token.get());
        continue;  // plan again: cancelled, stopping or due
      }
      if (!init.remove_id.empty()) {
        cri_.RemoveContainer(init.remove_id).IgnoreError();
      }
      absl::StatusOr<std::string> id = StartContainer(
          run, *FindChild(run.capsule, init.child_uuid), init.attempt);
      if (!id.ok()) return id.status();
      capsule::ObservedContainer o;
      o.id = *id;
      o.attempt = init.attempt;
      o.state = cri::ContainerState::kRunning;
      run.pod.containers[init.child_uuid] = o;
      poll = absl::Milliseconds(20);
      continue;
    }
    if (!plan.wait_for.empty()) {
      if (absl::Status s = WatchInit(run, plan.wait_for, poll); !s.ok()) {
        return s;
      }
      continue;
    }
    if (!plan.starts.empty()) {
      if (absl::Status s = StartContainers(run, plan.starts); !s.ok()) {
        return s;
      }
      continue;
    }
    if (plan.outcome == Outcome::kWait && plan.wake != absl::InfiniteFuture()) {
      if (plan.wake > clock_.Now())
        Wait(plan.wake - clock_.Now(), run.token.get());
      continue;
    }
    // A plan that asks for nothing and is not done would spin.
    return absl::InternalError("the create's plan has no next step");
  }
}

absl::Status CapsuleOps::KillSandboxes(CreateRun& run,
                                       const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (absl::Status s = cri_.StopPodSandbox(id); !s.ok()) {
      return Step("stopping a sandbox left by an earlier attempt", s);
    }
    if (absl::Status s = cri_.RemovePodSandbox(id); !s.ok()) {
      return Step("removing a sandbox left by an earlier attempt", s);
    }
    capsule::ObservedPod& pod = run.pod;
    if (pod.present && pod.sandbox_id == id) {
      pod.present = false;
      pod.containers.clear();
    }
    std::erase_if(pod.other_sandboxes,
                  [&](const auto& sb) { return sb.first == id; });
  }
  return absl::OkStatus();
}

absl::Status CapsuleOps::RunSandbox(CreateRun& run, uint32_t attempt) {
  capsule::Capsule& c = run.capsule;
  absl::StatusOr<cri::PodSandboxConfig> sb =
      capsule::BuildSandboxConfig(c, options_.mapper, attempt);
  if (!sb.ok()) return sb.status();
  run.sandbox_config = *std::move(sb);
  // Container output is tenant data: the runtime (root) writes it, log
  // collectors read it as root; nobody else.
  if (absl::Status s = node::MakeDirs(run.sandbox_config.log_directory, 0750);
      !s.ok()) {
    return Step("creating the pod log directory", s);
  }
  pod_logs_.Add(run.uuid, run.sandbox_config.log_directory);
  if (run.cancelled()) return CancelledByDelete();
  // The images are made present beside the sandbox's start: neither needs
  // the other, and a cold start takes the longer of the two, not the sum.
  absl::Status images;
  std::string image_child;
  absl::Notification images_done;
  Beside(absl::StrCat(run.uuid, "/images"), [&] {
    images = EnsureImages(run, &image_child);
    images_done.Notify();
  });
  absl::StatusOr<std::string> id =
      cri_.RunPodSandbox(run.sandbox_config, run.handler);
  images_done.WaitForNotification();
  if (!id.ok() && run.fresh && !run.cancelled()) {
    // An earlier create of this capsule may hold the name: look, and plan
    // again with what is there.
    run.fresh = false;
    absl::StatusOr<capsule::ObservedPod> pod = Observe(run.uuid);
    if (!pod.ok()) return Step("listing the runtime's sandboxes", pod.status());
    if (pod->present || !pod->other_sandboxes.empty()) {
      run.pod = *std::move(pod);
      return absl::OkStatus();
    }
  }
  if (id.status().code() == absl::StatusCode::kAborted) {
    ++run.sandbox_config.attempt;  // a failed earlier attempt was removed
    id = cri_.RunPodSandbox(run.sandbox_config, run.handler);
  }
  if (!id.ok()) return Step("starting the pod sandbox", id.status());
  // The sandbox is findable by its owner labels from here on (a crash
  // leaves it to the resumed create or to orphan collection): no write.
  run.sandbox_id = *id;
  run.pod = capsule::ObservedPod{};
  run.pod.present = true;
  run.pod.sandbox_id = *id;
  run.pod.sandbox_attempt = run.sandbox_config.attempt;
  run.pod.state = cri::SandboxState::kReady;
  run.ip_fetch.reset();
  if (!images.ok()) {
    run.SetFailed(image_child);
    return images;
  }
  if (ports_ == nullptr) {
    // The address the runtime's CNI gave the pod, read beside the container
    // starts.
    auto fetch = std::make_shared<SandboxIpFetch>();
    fetch->sandbox_id = *id;
    Beside(absl::StrCat(run.uuid, "/ip"), [this, fetch] {
      fetch->result = cri_.PodSandboxStatus(fetch->sandbox_id);
      fetch->done.Notify();
    });
    run.ip_fetch = std::move(fetch);
  }
  return absl::OkStatus();
}

absl::Status CapsuleOps::AwaitSandboxIp(CreateRun& run) {
  std::shared_ptr<SandboxIpFetch> fetch = std::move(run.ip_fetch);  // empties
  fetch->done.WaitForNotification();
  if (!fetch->result.ok()) {
    return Step("reading the sandbox status", fetch->result.status());
  }
  if (run.pod.present && run.pod.sandbox_id == fetch->sandbox_id) {
    run.pod.ip = fetch->result->ip;
  }
  return absl::OkStatus();
}

void CapsuleOps::Beside(const std::string& key,
                        const std::function<void()>& task) {
  if (!helpers_->Submit(key, task)) task();  // shutting down: here
}

absl::Status CapsuleOps::EnsureImages(CreateRun& run,
                                      std::string* failed_child) {
  const capsule::Capsule& c = run.capsule;
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& child : *list) {
      if (run.cancelled()) return CancelledByDelete();
      const std::string image = child.image.value_or("");
      if (run.image_refs.count(image)) continue;
      absl::StatusOr<std::optional<cri::AuthConfig>> auth =
          RegistryAuth(c, child);
      absl::StatusOr<std::string> ref =
          auth.ok()
              ? puller_.Ensure(
                    image,
                    absl::AsciiStrToLower(child.image_pull_policy.value_or("")),
                    *auth, &run.sandbox_config)
              : absl::StatusOr<std::string>(auth.status());
      if (!ref.ok()) {
        *failed_child = child.uuid;
        return Step(
            absl::StrCat("container '", capsule::ContainerNameFor(child), "'"),
            ref.status());
      }
      run.image_refs[image] = *ref;
    }
  }
  return absl::OkStatus();
}

absl::Status CapsuleOps::WatchInit(CreateRun& run, const std::string& uuid,
                                   absl::Duration& poll) {
  capsule::ObservedContainer& o = run.pod.containers[uuid];
  absl::StatusOr<cri::ContainerStatusInfo> st = cri_.ContainerStatus(o.id);
  if (!st.ok()) {
    run.SetFailed(uuid);
    return Step(
        absl::StrCat("watching init container '",
                     capsule::ContainerNameFor(*FindChild(run.capsule, uuid)),
                     "'"),
        st.status());
  }
  o.state = st->state;
  o.exit_code = st->exit_code;
  o.reason = st->reason;
  o.started_at = st->started_at;
  o.finished_at = st->finished_at;
  if (o.state != cri::ContainerState::kExited) {
    Wait(poll, run.token.get());
    poll = std::min(poll * 2, absl::Seconds(1));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CapsuleOps::StartContainer(
    CreateRun& run, const ContainerRecord& child, uint32_t attempt) {
  const std::string who =
      absl::StrCat("container '", capsule::ContainerNameFor(child), "'");
  absl::StatusOr<cri::ContainerConfig> cfg = capsule::BuildContainerConfig(
      run.capsule, child, options_.mapper,
      run.image_refs[child.image.value_or("")], attempt);
  if (!cfg.ok()) {
    run.SetFailed(child.uuid);
    return cfg.status();
  }
  absl::StatusOr<std::string> id =
      cri_.CreateContainer(run.sandbox_id, *cfg, run.sandbox_config);
  if (!id.ok()) {
    run.SetFailed(child.uuid);
    return Step(absl::StrCat("creating ", who), id.status());
  }
  if (absl::Status s = cri_.StartContainer(*id); !s.ok()) {
    run.SetFailed(child.uuid);
    return Step(absl::StrCat("starting ", who), s);
  }
  return *id;
}

absl::Status CapsuleOps::StartContainers(
    CreateRun& run, const std::vector<capsule::PlannedStart>& starts) {
  // Regular containers start concurrently: all but the last on helper
  // threads (through the executor's limits), the last on this one.
  std::vector<absl::StatusOr<std::string>> ids(starts.size(),
                                               absl::UnknownError(""));
  auto start_one = [this, &run, &starts, &ids](size_t i) {
    ids[i] = StartContainer(run, *FindChild(run.capsule, starts[i].child_uuid),
                            starts[i].attempt);
  };
  absl::BlockingCounter pending(static_cast<int>(starts.size() - 1));
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    auto task = [&start_one, &pending, i] {
      start_one(i);
      pending.DecrementCount();
    };
    Beside(absl::StrCat(run.uuid, "/", i), task);
  }
  start_one(starts.size() - 1);
  pending.Wait();
  absl::Status first;
  for (size_t i = 0; i < starts.size(); ++i) {
    if (!ids[i].ok()) {
      if (first.ok()) first = ids[i].status();
      continue;
    }
    capsule::ObservedContainer o;
    o.id = *ids[i];
    o.attempt = starts[i].attempt;
    o.state = cri::ContainerState::kRunning;
    run.pod.containers[starts[i].child_uuid] = o;
  }
  return first;
}

}  // namespace zun::agent
