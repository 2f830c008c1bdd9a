// The create half of CapsuleOps (capsule_ops.h).
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/capsule_ops.h"
#include "agent/host_fs.h"
#include "capsule/labels.h"
#include "capsule/status.h"
#include "common/logging.h"
#include "common/strings.h"
#include "rpc/zun_object.h"

namespace zun::agent {

using capsule::ContainerRecord;
namespace cs = ::zun::capsule;

struct CapsuleOps::CreateRun {
  std::string uuid;
  db::ActionContext ctx;
  CreateHints hints;
  capsule::Capsule capsule;
  std::string handler;
  cri::PodSandboxConfig sandbox_config;
  std::string sandbox_id;
  std::map<std::string, std::string> image_refs;  // image -> ref to run
  std::map<std::string, std::string> child_ids;   // child uuid -> CRI id
  std::string failed_child;                       // uuid the failure is about
};

namespace {

absl::Status Step(const std::string& what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

std::optional<cri::AuthConfig> AuthFor(const capsule::Capsule& c,
                                       const ContainerRecord& child) {
  if (!child.registry_id) return std::nullopt;
  auto it = c.registries.find(*child.registry_id);
  if (it == c.registries.end()) return std::nullopt;
  cri::AuthConfig a;
  a.username = it->second.username;
  a.password = it->second.password;
  a.server_address = it->second.domain;
  return a;
}

std::string PolicyOf(const ContainerRecord& c) {
  return absl::AsciiStrToLower(c.image_pull_policy.value_or(""));
}

}  // namespace

void CapsuleOps::Create(const std::string& uuid, const db::ActionContext& ctx,
                        const CreateHints& hints,
                        absl::AnyInvocable<void()> on_claimed) {
  CreateRun run;
  run.uuid = uuid;
  run.ctx = ctx;
  run.hints = hints;
  absl::StatusOr<capsule::Capsule> claimed = RetryDb<capsule::Capsule>([&] {
    return store_.ClaimCapsule(uuid, options_.mapper.host, cs::kTaskCreating);
  });
  if (!claimed.ok()) {
    const absl::StatusCode code = claimed.status().code();
    if (code == absl::StatusCode::kNotFound ||
        code == absl::StatusCode::kFailedPrecondition) {
      ZUN_CLOG(kAgent, warn, uuid, ctx.request_id, "not creating: {}",
               claimed.status().message());
      on_claimed();
      return;
    }
    // Leave the message unacked: it is redelivered once we are back.
    ZUN_CLOG(kAgent, error, uuid, ctx.request_id,
             "cannot claim the capsule, leaving the request queued: {}",
             claimed.status().message());
    return;
  }
  on_claimed();
  run.capsule = *std::move(claimed);
  if (run.capsule.record.status.value_or("") == cs::kStatusRunning &&
      run.capsule.record.container_id) {
    ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "already running");
    WriteWithRetry({db::RowPatch(uuid).ClearTaskStateIf(cs::kTaskCreating)})
        .IgnoreError();
    return;
  }
  absl::StatusOr<int64_t> event =
      store_.StartAction(uuid, "create", "compute__do_container_create", ctx);
  if (!event.ok()) {
    ZUN_CLOG(kAgent, warn, uuid, ctx.request_id,
             "cannot record the create action: {}", event.status().message());
  }
  ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "creating capsule '{}'",
           run.capsule.record.name.value_or(""));
  absl::Status s = RunCreate(run);
  if (s.ok()) {
    ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "running in sandbox '{}'",
             run.sandbox_id);
  } else {
    ZUN_CLOG(kAgent, warn, uuid, ctx.request_id, "create failed: {}",
             s.message());
    FailCreate(run, s);
  }
  if (event.ok()) {
    store_.FinishAction(*event, s.ok(), s.ok() ? "" : SV(s.message()))
        .IgnoreError();
  }
}

absl::Status CapsuleOps::RunCreate(CreateRun& run) {
  const capsule::Capsule& c = run.capsule;
  const capsule::MapperOptions& m = options_.mapper;
  if (absl::Status s = capsule::ValidateCapsule(c, m); !s.ok()) return s;
  absl::StatusOr<std::string> handler = capsule::RuntimeHandlerFor(c, m);
  if (!handler.ok()) return handler.status();
  run.handler = *handler;

  // Whatever an earlier attempt left (a crash, a redelivered request) is
  // removed first; the new sandbox gets the next attempt number.
  uint32_t attempt = 0;
  cri::SandboxFilter mine;
  mine.labels = capsule::SandboxOwnerLabels(m.host, run.uuid);
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
  absl::StatusOr<cri::PodSandboxConfig> sb = BuildSandboxConfig(c, m, attempt);
  if (!sb.ok()) return sb.status();
  run.sandbox_config = *std::move(sb);
  if (absl::Status s = MakeDirs(run.sandbox_config.log_directory, 0755);
      !s.ok()) {
    return Step("creating the pod log directory", s);
  }
  absl::StatusOr<std::string> id =
      cri_.RunPodSandbox(run.sandbox_config, run.handler);
  if (id.status().code() == absl::StatusCode::kAborted) {
    ++run.sandbox_config.attempt;  // a failed earlier attempt was removed
    id = cri_.RunPodSandbox(run.sandbox_config, run.handler);
  }
  if (!id.ok()) return Step("starting the pod sandbox", id.status());
  run.sandbox_id = *id;
  // Recorded at once, so a crash from here on leaves a findable sandbox.
  WriteWithRetry({db::RowPatch(run.uuid).Set("container_id", run.sandbox_id)})
      .IgnoreError();

  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& child : *list) {
      const std::string image = child.image.value_or("");
      if (run.image_refs.count(image)) continue;
      absl::StatusOr<std::string> ref = puller_.Ensure(
          image, PolicyOf(child), AuthFor(c, child), &run.sandbox_config);
      if (!ref.ok()) {
        run.failed_child = child.uuid;
        return Step(
            absl::StrCat("container '", capsule::ContainerNameFor(child), "'"),
            ref.status());
      }
      run.image_refs[image] = *ref;
    }
  }
  for (const ContainerRecord& init : c.init_containers) {
    if (absl::Status s = RunInitContainer(run, init); !s.ok()) return s;
  }
  for (const ContainerRecord& child : c.containers) {
    absl::StatusOr<std::string> cid = StartContainer(run, child);
    if (!cid.ok()) return cid.status();
  }

  absl::StatusOr<cri::SandboxStatusInfo> st =
      cri_.PodSandboxStatus(run.sandbox_id);
  if (!st.ok()) return Step("reading the sandbox status", st.status());
  const std::string net =
      run.hints.network.empty() ? options_.network_name : run.hints.network;
  nlohmann::json addresses = nlohmann::json::object();
  if (!st->ip.empty()) {
    addresses[net] = nlohmann::json::array(
        {{{"addr", st->ip},
          {"version", st->ip.find(':') == std::string::npos ? 4 : 6},
          {"port", nullptr},
          {"subnet_id", nullptr},
          {"preserve_on_delete", false}}});
  }
  const std::string now = rpc::FormatObjectTime(clock_.Now());
  std::vector<db::RowPatch> patches;
  db::RowPatch cap(run.uuid);
  cap.Set("status", cs::kStatusRunning)
      .Set("status_reason", nullptr)
      .Set("container_id", run.sandbox_id)
      .Set("addresses", addresses)
      .Set("started_at", now)
      .ClearTaskStateIf(cs::kTaskCreating);
  patches.push_back(std::move(cap));
  for (const ContainerRecord& init : c.init_containers) {
    patches.push_back(
        std::move(db::RowPatch(init.uuid)
                      .Set("container_id", run.child_ids[init.uuid])
                      .Set("status", cs::kStatusStopped)
                      .Set("status_reason", nullptr)
                      .Set("status_detail", "Completed (exit 0)")));
  }
  for (const ContainerRecord& child : c.containers) {
    patches.push_back(
        std::move(db::RowPatch(child.uuid)
                      .Set("container_id", run.child_ids[child.uuid])
                      .Set("status", cs::kStatusRunning)
                      .Set("status_reason", nullptr)
                      .Set("started_at", now)));
  }
  return WriteWithRetry(patches);
}

absl::StatusOr<std::string> CapsuleOps::StartContainer(
    CreateRun& run, const ContainerRecord& child) {
  const std::string who =
      absl::StrCat("container '", capsule::ContainerNameFor(child), "'");
  absl::StatusOr<cri::ContainerConfig> cfg = capsule::BuildContainerConfig(
      run.capsule, child, options_.mapper,
      run.image_refs[child.image.value_or("")], 0);
  if (!cfg.ok()) {
    run.failed_child = child.uuid;
    return cfg.status();
  }
  absl::StatusOr<std::string> id =
      cri_.CreateContainer(run.sandbox_id, *cfg, run.sandbox_config);
  if (!id.ok()) {
    run.failed_child = child.uuid;
    return Step(absl::StrCat("creating ", who), id.status());
  }
  run.child_ids[child.uuid] = *id;
  if (absl::Status s = cri_.StartContainer(*id); !s.ok()) {
    run.failed_child = child.uuid;
    return Step(absl::StrCat("starting ", who), s);
  }
  return *id;
}

absl::Status CapsuleOps::RunInitContainer(CreateRun& run,
                                          const ContainerRecord& init) {
  absl::StatusOr<std::string> id = StartContainer(run, init);
  if (!id.ok()) return id.status();
  const std::string who =
      absl::StrCat("init container '", capsule::ContainerNameFor(init), "'");
  const absl::Time deadline = clock_.Now() + options_.init_container_timeout;
  absl::Duration poll = absl::Milliseconds(20);
  for (;;) {
    absl::StatusOr<cri::ContainerStatusInfo> st = cri_.ContainerStatus(*id);
    if (!st.ok()) {
      run.failed_child = init.uuid;
      return Step(absl::StrCat("watching ", who), st.status());
    }
    if (st->state == cri::ContainerState::kExited) {
      if (st->exit_code == 0) return absl::OkStatus();
      run.failed_child = init.uuid;
      return absl::FailedPreconditionError(absl::StrCat(
          who, " exited with code ", st->exit_code,
          st->reason.empty() ? "" : absl::StrCat(" (", st->reason, ")")));
    }
    if (clock_.Now() >= deadline) {
      run.failed_child = init.uuid;
      return absl::DeadlineExceededError(
          absl::StrCat(who, " did not finish within ",
                       absl::FormatDuration(options_.init_container_timeout)));
    }
    if (stopping_.load()) {
      return absl::CancelledError("the agent is shutting down");
    }
    clock_.WaitFor(poll, stop_waker_);
    poll = std::min(poll * 2, absl::Seconds(1));
  }
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
  const std::string reason(why.message());
  std::vector<db::RowPatch> patches;
  db::RowPatch cap(run.uuid);
  cap.Set("status", cs::kStatusError)
      .Set("status_reason", reason)
      .Set("container_id", nullptr)
      .ClearTaskStateIf(cs::kTaskCreating);
  patches.push_back(std::move(cap));
  for (const auto* list :
       {&run.capsule.init_containers, &run.capsule.containers}) {
    for (const ContainerRecord& child : *list) {
      patches.push_back(std::move(
          db::RowPatch(child.uuid)
              .Set("status", cs::kStatusError)
              .Set("container_id", nullptr)
              .Set("status_reason", child.uuid == run.failed_child
                                        ? reason
                                        : "not started: the capsule failed")));
    }
  }
  if (absl::Status s = WriteWithRetry(patches); !s.ok()) {
    ZUN_CLOG(kAgent, error, run.uuid, run.ctx.request_id,
             "cannot record the failure: {}", s.message());
  }
}

}  // namespace zun::agent
