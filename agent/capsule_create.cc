// The create half of CapsuleOps (capsule_ops.h).

#include "absl/strings/str_cat.h"
#include "agent/capsule_create_run.h"
#include "agent/capsule_ops.h"
#include "capsule/labels.h"
#include "capsule/pod_plan.h"
#include "capsule/status.h"
#include "common/logging.h"
#include "common/strings.h"
#include "node/host_fs.h"

namespace zun::agent {

using capsule::ContainerRecord;
namespace cs = ::zun::capsule;

void CapsuleOps::Create(const std::string& uuid, const db::ActionContext& ctx,
                        const CreateHints& hints,
                        absl::AnyInvocable<void()> on_claimed, bool recreate) {
  const absl::Time start = clock_.Now();
  const std::string_view result =
      CreateOnce(uuid, ctx, hints, on_claimed, recreate);
  ReportOp(recreate ? "recreate" : "create", result, start);
}

std::string_view CapsuleOps::CreateOnce(const std::string& uuid,
                                        const db::ActionContext& ctx,
                                        const CreateHints& hints,
                                        absl::AnyInvocable<void()>& on_claimed,
                                        bool recreate) {
  if (ports_ != nullptr && hints.resume && hints.networks.empty()) {
    std::optional<capsule::Capsule> known = registry_.Get(uuid);
    if (known && known->record.cni_metadata.is_null()) {
      ZUN_CLOG(kAgent, debug, uuid, ctx.request_id,
               "not resuming: no port is recorded yet; the unacknowledged "
               "request comes again with its networks");
      on_claimed();
      return "skipped";
    }
  }
  CreateRun run;
  run.uuid = uuid;
  run.ctx = ctx;
  run.hints = hints;
  // The claim and the action's start are one transaction. Transient
  // errors are retried a bounded number of times (claim_retry).
  absl::StatusOr<db::CapsuleStore::Claimed> claimed =
      RetryDbWith<db::CapsuleStore::Claimed>(
          options_.claim_retry, options_.claim_attempts, [&] {
            return store_.ClaimCapsuleWithAction(
                uuid, options_.mapper.host, cs::kTaskCreating, "create",
                "compute__do_container_create", ctx);
          });
  if (!claimed.ok()) {
    const absl::StatusCode code = claimed.status().code();
    if (code == absl::StatusCode::kNotFound ||
        code == absl::StatusCode::kFailedPrecondition) {
      ZUN_CLOG(kAgent, warn, uuid, ctx.request_id, "not creating: {}",
               claimed.status().message());
      on_claimed();
      return "skipped";
    }
    if (stopping_.load()) {
      // Shutting down: leave the message unacked; the next start gets it.
      ZUN_CLOG(kAgent, warn, uuid, ctx.request_id,
               "not claimed before shutdown, leaving the request queued: {}",
               claimed.status().message());
      return "requeued";
    }
    // A permanent error (an undecodable row, an SQL error), or a transient
    // one that outlasted its retries: the capsule fails and the message is
    // acknowledged, so it cannot come back forever.
    const bool transient = IsTransient(claimed.status());
    FailUnclaimed(
        uuid, ctx,
        absl::StrCat(
            "cannot claim the capsule on host '", options_.mapper.host,
            "': ", transient ? "the database stayed unreachable: " : "",
            claimed.status().message()));
    on_claimed();
    return transient ? "failed_transient" : "failed_permanent";
  }
  // With Neutron ports, the request is acknowledged once they are
  // recorded (BindPorts): a crash before that redelivers it with its
  // requested_networks.
  if (ports_ == nullptr) {
    on_claimed();
  } else {
    run.on_claimed = &on_claimed;
  }
  run.capsule = std::move(claimed->capsule);
  run.event_id = claimed->event_id;
  registry_.Put(run.capsule);
  if (run.capsule.record.task_state.value_or("") == cs::kTaskDeleting) {
    ZUN_CLOG(kAgent, info, uuid, ctx.request_id,
             "not creating: a delete is pending");
    WriteAndFinish({}, run.event_id, true, "").IgnoreError();
    run.Ack();
    return "skipped";
  }
  if (!recreate &&
      run.capsule.record.status.value_or("") == cs::kStatusRunning &&
      run.capsule.record.container_id) {
    ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "already running");
    WriteAndFinish(
        {std::move(db::RowPatch(uuid).ClearTaskStateIf(cs::kTaskCreating))},
        run.event_id, true, "")
        .IgnoreError();
    run.Ack();
    return "skipped";
  }
  run.fresh = hints.first_delivery && !hints.resume && !recreate;
  run.token = Register(uuid);
  ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "{} capsule '{}'",
           recreate ? "recreating" : "creating",
           run.capsule.record.name.value_or(""));
  absl::Status s = RunCreate(run);
  if (!s.ok() && stopping_.load()) {
    // Interrupted by shutdown: leave what exists and task_state as they
    // are; the next start resumes the create (Reconciler::Recover).
    ZUN_CLOG(kAgent, warn, uuid, ctx.request_id,
             "create interrupted by shutdown; it resumes at the next start");
    Unregister(uuid);
    return "interrupted";
  }
  if (s.ok() && run.cancelled()) s = CancelledByDelete();
  if (s.ok()) {
    ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "running in sandbox '{}'",
             run.sandbox_id);
  } else {
    ZUN_CLOG(kAgent, warn, uuid, ctx.request_id, "create failed: {}",
             s.message());
    FailCreate(run, s);
  }
  Unregister(uuid);
  run.Ack();
  if (s.ok()) return "ok";
  return run.cancelled() ? "cancelled" : "error";
}

absl::Status CapsuleOps::RunCreate(CreateRun& run) {
  capsule::Capsule& c = run.capsule;
  const capsule::MapperOptions& m = options_.mapper;
  if (absl::Status s = ResolveVolumes(c); !s.ok()) return s;
  if (absl::Status s = capsule::ValidateCapsule(c, m); !s.ok()) return s;
  // Credentials that cannot be used fail the capsule before the runtime
  // is touched.
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& child : *list) {
      if (absl::Status s = RegistryAuth(c, child).status(); !s.ok()) {
        run.SetFailed(child.uuid);
        return Step(
            absl::StrCat("container '", capsule::ContainerNameFor(child), "'"),
            s);
      }
    }
  }
  absl::StatusOr<std::string> handler = capsule::RuntimeHandlerFor(c, m);
  if (!handler.ok()) return handler.status();
  run.handler = *handler;

  // Whatever an earlier attempt left (a crash, a redelivered request, a
  // vanished pod being recreated) is seen first, and the plan removes it.
  // A request delivered for the first time has no earlier attempt: the
  // runtime is asked only if the sandbox cannot run.
  if (!run.fresh) {
    absl::StatusOr<capsule::ObservedPod> pod = Observe(run.uuid);
    if (!pod.ok()) {
      return Step("listing the runtime's sandboxes", pod.status());
    }
    run.pod = *std::move(pod);
  }
  if (run.cancelled()) return CancelledByDelete();
  if (absl::Status s = BindPorts(run); !s.ok()) return s;
  return Converge(run);
}

void CapsuleOps::FailUnclaimed(const std::string& uuid,
                               const db::ActionContext& ctx,
                               const std::string& reason) {
  ZUN_CLOG(kAgent, error, uuid, ctx.request_id, "create failed: {}", reason);
  absl::Status s =
      RetryDbStatusWith(options_.claim_retry, options_.claim_attempts, [&] {
        return store_.Apply(
            {std::move(db::RowPatch(uuid)
                           .Status(cs::kStatusError)
                           .StatusReason(reason)
                           .ClearTaskStateIf(cs::kTaskCreating))});
      });
  if (!s.ok()) {
    ZUN_CLOG(kAgent, error, uuid, ctx.request_id,
             "cannot record the failure either: {}", s.message());
  }
  ReleaseAllocation(uuid);
}

void CapsuleOps::FailCreate(CreateRun& run, const absl::Status& why) {
  if (!run.sandbox_id.empty()) {
    absl::Status s = cri_.StopPodSandbox(run.sandbox_id);
    if (s.ok()) s = cri_.RemovePodSandbox(run.sandbox_id);
    if (!s.ok()) {
      ZUN_CLOG(kAgent, warn, run.uuid, run.ctx.request_id,
               "rollback left sandbox '{}' behind (the reconciler will remove "
               "it): {}",
               run.sandbox_id, s.message());
    }
  }
  RemovePodCgroups(run.uuid);
  // Nor in Neutron (upstream leaks the ports here): ours are deleted, the
  // user's unbound. The cancelling delete releases them too (idempotent).
  if (ports_ != nullptr) {
    nlohmann::json recorded =
        run.addresses.is_null() ? run.capsule.record.addresses : run.addresses;
    if (absl::Status s = ReleasePorts(run.uuid, recorded); !s.ok()) {
      ZUN_CLOG(kAgent, warn, run.uuid, run.ctx.request_id,
               "rollback could not release the ports (the delete retries): {}",
               s.message());
    }
  }
  // Nothing of the failed create stays on the node: its log directory and
  // the local volume directories it made (a retry makes them again).
  RemovePodFiles(run.capsule);
  if (why.code() == absl::StatusCode::kCancelled) {
    // The delete that cancelled us removes the rows next; only the pointer
    // to the removed sandbox goes.
    WriteAndFinish({std::move(db::RowPatch(run.uuid)
                                  .ContainerId(std::nullopt)
                                  .ClearTaskStateIf(cs::kTaskCreating))},
                   run.event_id, false, "cancelled by a delete")
        .IgnoreError();
    return;
  }
  const std::string reason(why.message());
  std::string failed;
  {
    absl::MutexLock l(&run.mu);
    failed = run.failed_child;
  }
  const std::vector<db::RowPatch> patches = ToPatches(
      capsule::FailureRows(run.capsule, reason, failed, ports_ != nullptr));
  if (absl::Status s = WriteAndFinish(patches, run.event_id, false, reason);
      !s.ok()) {
    ZUN_CLOG(kAgent, error, run.uuid, run.ctx.request_id,
             "cannot record the failure: {}", s.message());
  }
  // As zun-compute does when a create fails: the capacity goes back.
  ReleaseAllocation(run.uuid);
}

absl::Status CapsuleOps::BindPorts(CreateRun& run) {
  if (ports_ == nullptr) return absl::OkStatus();
  const capsule::ContainerRecord& rec = run.capsule.record;
  std::vector<RequestedNetwork> wanted = run.hints.networks;
  if (wanted.empty() && !run.hints.network.empty()) {
    wanted.push_back({run.hints.network, "", "", false});
  }
  absl::StatusOr<CapsulePorts> ports =
      ports_->Bind(run.uuid, rec.project_id.value_or(""), wanted, rec.addresses,
                   rec.cni_metadata);
  if (!ports.ok()) return Step("binding the Neutron ports", ports.status());
  run.addresses = ports->addresses;
  // The hand-off to zun-cni-daemon, which reads cni_metadata during the
  // RunPodSandbox below.
  absl::Status s = Write({std::move(db::RowPatch(run.uuid)
                                        .Addresses(ports->addresses)
                                        .CniMetadata(ports->cni_metadata))});
  if (!s.ok()) return Step("recording the Neutron ports", s);
  run.capsule.record.addresses = ports->addresses;
  run.capsule.record.cni_metadata = ports->cni_metadata;
  run.Ack();
  return absl::OkStatus();
}

absl::Status CapsuleOps::ResolveVolumes(capsule::Capsule& c) {
  for (auto* list : {&c.init_containers, &c.containers}) {
    for (ContainerRecord& child : *list) {
      for (capsule::VolumeMount& v : child.volumes) {
        if (v.volume_uuid.empty() ||
            v.volume_uuid.find('/') != std::string::npos ||
            v.volume_uuid.find("..") != std::string::npos) {
          return absl::InvalidArgumentError(absl::StrCat(
              "container '", capsule::ContainerNameFor(child), "': volume '",
              v.volume_uuid, "' has an invalid id"));
        }
        v.host_path = options_.volume_dir + "/" + v.volume_uuid;
        if (v.provider == "local") {
          if (absl::Status s = node::MakeDirs(v.host_path, 0750); !s.ok()) {
            return Step("creating the local volume", s);
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace zun::agent
