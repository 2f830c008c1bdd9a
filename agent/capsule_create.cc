// The create half of CapsuleOps (capsule_ops.h).
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "agent/capsule_ops.h"
#include "capsule/labels.h"
#include "capsule/status.h"
#include "common/logging.h"
#include "common/strings.h"
#include "node/host_fs.h"

namespace zun::agent {

using capsule::ContainerRecord;
namespace cs = ::zun::capsule;

struct CapsuleOps::CreateRun {
  std::string uuid;
  db::ActionContext ctx;
  CreateHints hints;
  capsule::Capsule capsule;
  std::shared_ptr<OpToken> token;
  std::string handler;
  cri::PodSandboxConfig sandbox_config;
  std::string sandbox_id;
  std::map<std::string, std::string> image_refs;  // image -> ref to run
  absl::Mutex mu;
  std::map<std::string, std::string> child_ids ABSL_GUARDED_BY(mu);
  std::string failed_child ABSL_GUARDED_BY(mu);  // uuid the failure is about
  std::optional<int64_t> event_id;  // the create's action event, if recorded
  // First delivery of the request, not a recreate or a resumed create:
  // nothing of an earlier attempt is expected in the runtime.
  bool fresh = false;
  // Acknowledges the request (once); deferred until the ports are recorded.
  absl::AnyInvocable<void()>* on_claimed = nullptr;
  nlohmann::json addresses;  // the Neutron ports' addresses, once bound

  void Ack() {
    if (on_claimed == nullptr) return;
    (*on_claimed)();
    on_claimed = nullptr;
  }

  bool cancelled() const { return token->cancelled.load(); }
  void SetFailed(const std::string& child) {
    absl::MutexLock l(&mu);
    if (failed_child.empty()) failed_child = child;
  }
};

namespace {

absl::Status Step(const std::string& what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

std::string PolicyOf(const ContainerRecord& c) {
  return absl::AsciiStrToLower(c.image_pull_policy.value_or(""));
}

const absl::Status kCancelled =
    absl::CancelledError("cancelled: a delete of the capsule arrived");

}  // namespace

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
  if (s.ok() && run.cancelled()) s = kCancelled;
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
  // vanished pod being recreated) is removed first; the new sandbox gets the
  // next attempt number. A request delivered for the first time has no
  // earlier attempt: the runtime is asked only if the sandbox cannot run.
  uint32_t attempt = 0;
  if (!run.fresh) {
    absl::StatusOr<uint32_t> next = RemoveLeftovers(run);
    if (!next.ok()) return next.status();
    attempt = *next;
  }
  absl::StatusOr<cri::PodSandboxConfig> sb = BuildSandboxConfig(c, m, attempt);
  if (!sb.ok()) return sb.status();
  run.sandbox_config = *std::move(sb);
  // Container output is tenant data: the runtime (root) writes it, log
  // collectors read it as root; nobody else.
  if (absl::Status s = node::MakeDirs(run.sandbox_config.log_directory, 0750);
      !s.ok()) {
    return Step("creating the pod log directory", s);
  }
  if (run.cancelled()) return kCancelled;
  if (absl::Status s = BindPorts(run); !s.ok()) return s;
  if (run.cancelled()) return kCancelled;
  absl::StatusOr<std::string> id =
      cri_.RunPodSandbox(run.sandbox_config, run.handler);
  if (!id.ok() && run.fresh && !run.cancelled()) {
    // An earlier create of this capsule may hold the name: remove what it
    // left, then run the next attempt.
    absl::StatusOr<uint32_t> next = RemoveLeftovers(run);
    if (!next.ok()) return next.status();
    run.sandbox_config.attempt = *next;
    id = cri_.RunPodSandbox(run.sandbox_config, run.handler);
  }
  if (id.status().code() == absl::StatusCode::kAborted) {
    ++run.sandbox_config.attempt;  // a failed earlier attempt was removed
    id = cri_.RunPodSandbox(run.sandbox_config, run.handler);
  }
  if (!id.ok()) return Step("starting the pod sandbox", id.status());
  // The sandbox is findable by its owner labels from here on (a crash
  // leaves it to the resumed create or to orphan collection): no write.
  run.sandbox_id = *id;

  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& child : *list) {
      if (run.cancelled()) return kCancelled;
      const std::string image = child.image.value_or("");
      if (run.image_refs.count(image)) continue;
      absl::StatusOr<std::optional<cri::AuthConfig>> auth =
          RegistryAuth(c, child);
      absl::StatusOr<std::string> ref =
          auth.ok() ? puller_.Ensure(image, PolicyOf(child), *auth,
                                     &run.sandbox_config)
                    : absl::StatusOr<std::string>(auth.status());
      if (!ref.ok()) {
        run.SetFailed(child.uuid);
        return Step(
            absl::StrCat("container '", capsule::ContainerNameFor(child), "'"),
            ref.status());
      }
      run.image_refs[image] = *ref;
    }
  }
  for (const ContainerRecord& init : c.init_containers) {
    if (run.cancelled()) return kCancelled;
    if (absl::Status s = RunInitContainer(run, init); !s.ok()) return s;
  }
  if (run.cancelled()) return kCancelled;
  if (absl::Status s = StartContainers(run); !s.ok()) return s;

  // The address: the Neutron ports' (recorded already), else the one the
  // runtime's CNI gave the sandbox.
  nlohmann::json addresses = run.addresses;
  if (ports_ == nullptr) {
    absl::StatusOr<cri::SandboxStatusInfo> st =
        cri_.PodSandboxStatus(run.sandbox_id);
    if (!st.ok()) return Step("reading the sandbox status", st.status());
    addresses = capsule::AddressesFor(
        run.hints.network.empty() ? options_.network_name : run.hints.network,
        st->ip);
  }
  const absl::Time now = clock_.Now();
  std::vector<db::RowPatch> patches;
  db::RowPatch cap(run.uuid);
  cap.Status(cs::kStatusRunning)
      .StatusReason(std::nullopt)
      .ContainerId(run.sandbox_id)
      .Addresses(std::move(addresses))
      .StartedAt(now)
      .ClearTaskStateIf(cs::kTaskCreating);
  patches.push_back(std::move(cap));
  absl::MutexLock l(&run.mu);
  for (const ContainerRecord& init : c.init_containers) {
    patches.push_back(std::move(db::RowPatch(init.uuid)
                                    .ContainerId(run.child_ids[init.uuid])
                                    .Status(cs::kStatusStopped)
                                    .StatusReason(std::nullopt)
                                    .StatusDetail("Completed (exit 0)")));
  }
  for (const ContainerRecord& child : c.containers) {
    patches.push_back(std::move(db::RowPatch(child.uuid)
                                    .ContainerId(run.child_ids[child.uuid])
                                    .Status(cs::kStatusRunning)
                                    .StatusReason(std::nullopt)
                                    .StatusDetail(std::nullopt)
                                    .StartedAt(now)));
  }
  return WriteAndFinish(patches, run.event_id, true, "");
}

absl::StatusOr<uint32_t> CapsuleOps::RemoveLeftovers(CreateRun& run) {
  uint32_t attempt = 0;
  cri::SandboxFilter mine;
  mine.labels = capsule::SandboxOwnerLabels(options_.mapper.host, run.uuid);
  absl::StatusOr<std::vector<cri::SandboxInfo>> old = cri_.ListPodSandbox(mine);
  if (!old.ok()) return Step("listing the runtime's sandboxes", old.status());
  for (const cri::SandboxInfo& sb : *old) {
    attempt = std::max(attempt, sb.attempt + 1);
    if (absl::Status s = cri_.StopPodSandbox(sb.id); !s.ok()) {
      return Step("stopping a sandbox left by an earlier attempt", s);
    }
    if (absl::Status s = cri_.RemovePodSandbox(sb.id); !s.ok()) {
      return Step("removing a sandbox left by an earlier attempt", s);
    }
  }
  return attempt;
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
  {
    absl::MutexLock l(&run.mu);
    run.child_ids[child.uuid] = *id;
  }
  if (absl::Status s = cri_.StartContainer(*id); !s.ok()) {
    run.SetFailed(child.uuid);
    return Step(absl::StrCat("starting ", who), s);
  }
  return *id;
}

absl::Status CapsuleOps::StartContainers(CreateRun& run) {
  const auto& children = run.capsule.containers;
  if (children.size() == 1) return StartContainer(run, children[0], 0).status();
  // Regular containers start concurrently, once every init container is
  // done: all but the last on helper threads, the last on this one.
  std::vector<absl::Status> results(children.size());
  absl::BlockingCounter pending(static_cast<int>(children.size() - 1));
  for (size_t i = 0; i + 1 < children.size(); ++i) {
    auto start = [this, &run, &children, &results, &pending, i] {
      results[i] = StartContainer(run, children[i], 0).status();
      pending.DecrementCount();
    };
    if (!helpers_->Submit(absl::StrCat(run.uuid, "/", i), start)) {
      start();  // shutting down: start it here
    }
  }
  results.back() = StartContainer(run, children.back(), 0).status();
  pending.Wait();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CapsuleOps::RunInitContainer(CreateRun& run,
                                          const ContainerRecord& init) {
  const std::string who =
      absl::StrCat("init container '", capsule::ContainerNameFor(init), "'");
  const capsule::RestartPolicy policy = capsule::PolicyFor(run.capsule, init);
  const absl::Time deadline = clock_.Now() + options_.init_container_timeout;
  for (uint32_t attempt = 0;; ++attempt) {
    absl::StatusOr<std::string> id = StartContainer(run, init, attempt);
    if (!id.ok()) return id.status();
    absl::Duration poll = absl::Milliseconds(20);
    absl::StatusOr<cri::ContainerStatusInfo> st;
    for (;;) {
      st = cri_.ContainerStatus(*id);
      if (!st.ok()) {
        run.SetFailed(init.uuid);
        return Step(absl::StrCat("watching ", who), st.status());
      }
      if (st->state == cri::ContainerState::kExited) break;
      if (clock_.Now() >= deadline) {
        run.SetFailed(init.uuid);
        return absl::DeadlineExceededError(absl::StrCat(
            who, " did not finish within ",
            absl::FormatDuration(options_.init_container_timeout)));
      }
      if (!Wait(poll, run.token.get())) return kCancelled;
      poll = std::min(poll * 2, absl::Seconds(1));
    }
    if (st->exit_code == 0) return absl::OkStatus();
    const std::string exit_text = absl::StrCat(
        who, " exited with code ", st->exit_code,
        st->reason.empty() ? "" : absl::StrCat(" (", st->reason, ")"));
    if (!policy.ShouldRestart(st->exit_code, attempt)) {
      run.SetFailed(init.uuid);
      return absl::FailedPreconditionError(
          attempt == 0
              ? exit_text
              : absl::StrCat(exit_text, " after ", attempt, " restarts"));
    }
    const absl::Duration delay =
        capsule::RestartDelay(options_.restart_backoff, attempt);
    ZUN_CLOG(kAgent, info, run.uuid, run.ctx.request_id,
             "{}; restarting it after {} (policy {})", exit_text,
             absl::FormatDuration(delay), policy.ToString());
    Write(
        {std::move(db::RowPatch(init.uuid)
                       .Status(cs::kStatusRestarting)
                       .StatusReason(exit_text)
                       .StatusDetail(absl::StrCat("restarts: ", attempt + 1)))})
        .IgnoreError();
    if (!Wait(delay, run.token.get())) return kCancelled;
    cri_.RemoveContainer(*id).IgnoreError();
  }
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
  std::vector<db::RowPatch> patches;
  db::RowPatch cap(run.uuid);
  cap.Status(cs::kStatusError)
      .StatusReason(reason)
      .ContainerId(std::nullopt)
      .ClearTaskStateIf(cs::kTaskCreating);
  if (ports_ != nullptr) {
    cap.Addresses(nlohmann::json::object()).CniMetadata(nullptr);
  }
  patches.push_back(std::move(cap));
  for (const auto* list :
       {&run.capsule.init_containers, &run.capsule.containers}) {
    for (const ContainerRecord& child : *list) {
      patches.push_back(std::move(
          db::RowPatch(child.uuid)
              .Status(cs::kStatusError)
              .ContainerId(std::nullopt)
              .StatusReason(child.uuid == failed
                                ? reason
                                : "not started: the capsule failed")));
    }
  }
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
