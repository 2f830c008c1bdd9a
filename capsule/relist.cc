#include "capsule/relist.h"

#include "capsule/labels.h"
#include "capsule/status.h"

namespace zun::capsule {
namespace {

// The relist reads thousands of labels and statuses: by reference, with
// no copies and no temporary keys.
const std::string& Empty() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

const std::string& LabelOf(const cri::Labels& l, std::string_view key) {
  auto it = l.find(key);
  return it == l.end() ? Empty() : it->second;
}

const std::string& OrEmpty(const std::optional<std::string>& s) {
  return s ? *s : Empty();
}

// Whether the rows of `c` disagree with what the runtime shows (cheaply,
// from the two list calls; Sync then looks closer).
bool Drifted(const Capsule& c, const RuntimeView& rt, bool restart_scheduled) {
  const std::string& status = OrEmpty(c.record.status);
  const bool should_run =
      status == kStatusRunning || status == kStatusRestarting;
  auto sb = rt.sandbox.find(c.uuid());
  if (sb == rt.sandbox.end() || sb->second.state != cri::SandboxState::kReady) {
    return should_run;  // vanished or stopped behind our back
  }
  if (c.record.container_id != sb->second.id) return should_run;
  for (const auto& child : c.containers) {
    const std::string& cstatus = OrEmpty(child.status);
    auto it = rt.container.find(child.uuid);
    if (it == rt.container.end()) {
      if (cstatus != kStatusError) return true;
      continue;
    }
    const cri::ContainerInfo& ci = it->second;
    if (child.container_id != ci.id) return true;
    switch (ci.state) {
      case cri::ContainerState::kRunning:
        if (cstatus != kStatusRunning) return true;
        break;
      case cri::ContainerState::kCreated:
        if (cstatus != kStatusCreated) return true;
        break;
      case cri::ContainerState::kUnknown:
        if (cstatus != kStatusUnknown) return true;
        break;
      case cri::ContainerState::kExited:
        if (cstatus == kStatusRestarting) {
          if (!restart_scheduled) return true;  // restart not scheduled
        } else if (cstatus != kStatusStopped && cstatus != kStatusError) {
          return true;
        }
        break;
    }
  }
  return false;
}

}  // namespace

RuntimeView BuildRuntimeView(std::vector<cri::SandboxInfo> sandboxes,
                             std::vector<cri::ContainerInfo> containers) {
  RuntimeView rt;
  rt.sandbox.reserve(sandboxes.size());
  rt.container.reserve(containers.size());
  for (cri::SandboxInfo& sb : sandboxes) {
    std::string uuid = LabelOf(sb.labels, kLabelCapsuleUuid);
    if (uuid.empty()) continue;
    auto it = rt.sandbox.find(uuid);
    if (it == rt.sandbox.end()) {
      rt.sandbox.emplace(std::move(uuid), std::move(sb));
    } else if (sb.attempt > it->second.attempt ||
               (sb.attempt == it->second.attempt &&
                sb.created_at > it->second.created_at)) {
      it->second = std::move(sb);
    }
  }
  for (cri::ContainerInfo& ci : containers) {
    std::string child = LabelOf(ci.labels, kLabelContainerUuid);
    if (child.empty()) continue;
    auto sb = rt.sandbox.find(LabelOf(ci.labels, kLabelCapsuleUuid));
    if (sb == rt.sandbox.end() || sb->second.id != ci.sandbox_id) continue;
    auto it = rt.container.find(child);
    if (it == rt.container.end()) {
      rt.container.emplace(std::move(child), std::move(ci));
    } else if (ci.attempt > it->second.attempt) {
      it->second = std::move(ci);
    }
  }
  return rt;
}

RelistAction Triage(const Capsule& c, const RuntimeView& rt,
                    bool restart_scheduled) {
  const std::string& task = OrEmpty(c.record.task_state);
  const std::string& status = OrEmpty(c.record.status);
  if (task == kTaskDeleting) return RelistAction::kDelete;
  if (task == kTaskCreating || status == kStatusCreating) {
    return RelistAction::kResume;
  }
  if (!c.record.container_id && status == kStatusError) {
    // A failed create whose rollback left a sandbox behind.
    return rt.sandbox.count(c.uuid()) ? RelistAction::kRemoveSandbox
                                      : RelistAction::kNone;
  }
  return Drifted(c, rt, restart_scheduled) ? RelistAction::kSync
                                           : RelistAction::kNone;
}

}  // namespace zun::capsule
