#include "agent/capsule_ops.h"

#include "absl/strings/str_cat.h"
#include "agent/host_fs.h"
#include "capsule/labels.h"
#include "capsule/status.h"
#include "common/logging.h"

namespace zun::agent {

namespace cs = ::zun::capsule;

namespace {

bool Transient(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kAborted;
}

}  // namespace

CapsuleOps::CapsuleOps(db::CapsuleStore& store, cri::CriClient& cri,
                       Clock& clock, OpsOptions options)
    : store_(store),
      cri_(cri),
      clock_(clock),
      options_(std::move(options)),
      puller_(cri) {}

void CapsuleOps::Stop() {
  stopping_.store(true);
  stop_waker_.Notify();
}

bool CapsuleOps::IsTransient(const absl::Status& s) { return Transient(s); }

absl::Status CapsuleOps::RetryDbStatus(
    const std::function<absl::Status()>& call) {
  absl::StatusOr<bool> r = RetryDb<bool>([&]() -> absl::StatusOr<bool> {
    absl::Status s = call();
    if (!s.ok()) return s;
    return true;
  });
  return r.status();
}

absl::Status CapsuleOps::WriteWithRetry(
    const std::vector<db::RowPatch>& patches) {
  return RetryDbStatus([&] { return store_.Apply(patches); });
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
  if (absl::Status s = RemovePodCgroup(options_.cgroup_fs_root, parent);
      !s.ok()) {
    ZUN_LOG(kAgent, warn, "pod cgroup of '{}' not removed: {}", uuid,
            s.message());
  }
}

absl::Status CapsuleOps::Delete(const std::string& uuid, bool force,
                                const db::ActionContext& ctx) {
  absl::StatusOr<capsule::Capsule> loaded =
      RetryDb<capsule::Capsule>([&] { return store_.LoadCapsule(uuid); });
  if (loaded.status().code() == absl::StatusCode::kNotFound) {
    ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "already deleted");
    // Leftovers (if any) still go: the sandbox may outlive its row.
    return RemoveSandboxes(uuid, std::nullopt, absl::ZeroDuration());
  }
  if (!loaded.ok()) return loaded.status();
  const capsule::ContainerRecord& rec = loaded->record;
  if (rec.host && !rec.host->empty() && *rec.host != options_.mapper.host) {
    ZUN_CLOG(kAgent, warn, uuid, ctx.request_id,
             "not deleting: the capsule belongs to host '{}'", *rec.host);
    return absl::FailedPreconditionError("capsule belongs to another host");
  }
  ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "deleting capsule '{}'{}",
           rec.name.value_or(""), force ? " (force)" : "");
  absl::Status s =
      RemoveSandboxes(uuid, rec.container_id,
                      force ? absl::ZeroDuration() : options_.stop_grace);
  if (s.ok()) {
    RemovePodCgroups(uuid);
    s = RetryDbStatus([&] { return store_.DeleteCapsule(uuid); });
    if (s.ok()) {
      ZUN_CLOG(kAgent, info, uuid, ctx.request_id, "deleted");
      return s;
    }
  }
  ZUN_CLOG(kAgent, warn, uuid, ctx.request_id, "delete failed: {}",
           s.message());
  WriteWithRetry(
      {std::move(db::RowPatch(uuid)
                     .Set("status", cs::kStatusError)
                     .Set("status_reason",
                          absl::StrCat("delete failed: ", s.message()))
                     .ClearTaskStateIf(cs::kTaskDeleting))})
      .IgnoreError();
  return s;
}

absl::StatusOr<capsule::Capsule> CapsuleOps::Show(const std::string& uuid) {
  absl::StatusOr<capsule::Capsule> c =
      RetryDb<capsule::Capsule>([&] { return store_.LoadCapsule(uuid); });
  if (!c.ok()) return c;
  for (auto* list : {&c->init_containers, &c->containers}) {
    for (capsule::ContainerRecord& child : *list) {
      if (!child.container_id || child.container_id->empty()) continue;
      absl::StatusOr<cri::ContainerStatusInfo> st =
          cri_.ContainerStatus(*child.container_id);
      if (st.ok()) {
        child.status = std::string(cs::StatusOfContainerState(st->state));
        if (st->state == cri::ContainerState::kExited) {
          child.status_detail =
              absl::StrCat("Exited (", st->exit_code, ")",
                           st->reason.empty() ? "" : " " + st->reason)
                  .substr(0, 50);
        }
      } else if (st.status().code() == absl::StatusCode::kNotFound) {
        child.status = std::string(cs::kStatusUnknown);
        child.status_reason = "container not found in the runtime";
      }
    }
  }
  if (c->record.container_id && !c->record.container_id->empty()) {
    absl::StatusOr<cri::SandboxStatusInfo> sb =
        cri_.PodSandboxStatus(*c->record.container_id);
    if (sb.status().code() == absl::StatusCode::kNotFound &&
        c->record.status.value_or("") == cs::kStatusRunning) {
      c->record.status = std::string(cs::kStatusError);
      c->record.status_reason = "the pod sandbox is gone from the runtime";
    }
  }
  return c;
}

}  // namespace zun::agent
