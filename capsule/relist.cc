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

// Where each filter's kept labels land in a listed item (cri::PodListing:
// labels[i] is the value of keep.label_keys[i]).
constexpr size_t kSandboxCapsuleUuid = 0;
constexpr size_t kContainerCapsuleUuid = 0;
constexpr size_t kContainerChildUuid = 1;

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
  if (sb == rt.sandbox.end() ||
      sb->second->state != cri::SandboxState::kReady) {
    return should_run;  // vanished or stopped behind our back
  }
  if (c.record.container_id != sb->second->id) return should_run;
  for (const auto& child : c.containers) {
    const std::string& cstatus = OrEmpty(child.status);
    auto it = rt.container.find(child.uuid);
    if (it == rt.container.end()) {
      if (cstatus != kStatusError) return true;
      continue;
    }
    const cri::ListedContainer& ci = *it->second;
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

// Ours, on `host`: what both list calls of a relist select.
cri::Labels OursOn(const std::string& host) {
  return {{std::string(kLabelManagedBy), std::string(kManagedByValue)},
          {std::string(kLabelHost), host}};
}

}  // namespace

cri::SandboxFilter RelistSandboxFilter(const std::string& host) {
  cri::SandboxFilter f;
  f.labels = OursOn(host);
  f.keep.label_keys.resize(1);
  f.keep.label_keys[kSandboxCapsuleUuid] = kLabelCapsuleUuid;
  f.keep.details = false;
  return f;
}

cri::ContainerFilter RelistContainerFilter(const std::string& host) {
  cri::ContainerFilter f;
  f.labels = OursOn(host);
  f.keep.label_keys.resize(2);
  f.keep.label_keys[kContainerCapsuleUuid] = kLabelCapsuleUuid;
  f.keep.label_keys[kContainerChildUuid] = kLabelContainerUuid;
  f.keep.details = false;
  return f;
}

RuntimeView BuildRuntimeView(cri::PodListing listing) {
  RuntimeView rt;
  rt.listing = std::move(listing);  // element addresses stay as they were
  rt.sandbox.reserve(rt.listing.sandboxes.size());
  rt.container.reserve(rt.listing.containers.size());
  for (const cri::ListedSandbox& sb : rt.listing.sandboxes) {
    const std::string_view uuid = sb.labels[kSandboxCapsuleUuid];
    if (uuid.empty()) continue;
    auto [it, added] = rt.sandbox.try_emplace(uuid, &sb);
    if (!added && (sb.attempt > it->second->attempt ||
                   (sb.attempt == it->second->attempt &&
                    sb.created_at > it->second->created_at))) {
      it->second = &sb;
    }
  }
  for (const cri::ListedContainer& ci : rt.listing.containers) {
    const std::string_view child = ci.labels[kContainerChildUuid];
    if (child.empty()) continue;
    auto sb = rt.sandbox.find(ci.labels[kContainerCapsuleUuid]);
    if (sb == rt.sandbox.end() || sb->second->id != ci.sandbox_id) continue;
    auto [it, added] = rt.container.try_emplace(child, &ci);
    if (!added && ci.attempt > it->second->attempt) it->second = &ci;
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
