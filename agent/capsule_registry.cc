#include "agent/capsule_registry.h"

namespace zun::agent {

void CapsuleRegistry::Put(const capsule::Capsule& c) {
  absl::MutexLock l(&mu_);
  capsules_[c.uuid()] = c;
  owner_[c.uuid()] = c.uuid();
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const auto& child : *list) owner_[child.uuid] = c.uuid();
  }
}

void CapsuleRegistry::Remove(const std::string& uuid) {
  absl::MutexLock l(&mu_);
  auto it = capsules_.find(uuid);
  if (it == capsules_.end()) return;
  for (const auto* list :
       {&it->second.init_containers, &it->second.containers}) {
    for (const auto& child : *list) {
      owner_.erase(child.uuid);
      backoff_.erase(child.uuid);
    }
  }
  owner_.erase(uuid);
  capsules_.erase(it);
}

std::optional<capsule::Capsule> CapsuleRegistry::Get(
    const std::string& uuid) const {
  absl::MutexLock l(&mu_);
  auto it = capsules_.find(uuid);
  if (it == capsules_.end()) return std::nullopt;
  return it->second;
}

bool CapsuleRegistry::Contains(const std::string& uuid) const {
  absl::MutexLock l(&mu_);
  return capsules_.count(uuid) > 0;
}

std::vector<std::string> CapsuleRegistry::Uuids() const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> out;
  out.reserve(capsules_.size());
  for (const auto& [uuid, c] : capsules_) out.push_back(uuid);
  return out;
}

size_t CapsuleRegistry::size() const {
  absl::MutexLock l(&mu_);
  return capsules_.size();
}

void CapsuleRegistry::ForEach(
    const std::function<void(const capsule::Capsule&)>& fn) const {
  // Capsules visited per hold of the lock.
  constexpr int kBatch = 64;
  std::optional<std::string> last;  // the last uuid visited
  for (;;) {
    absl::MutexLock l(&mu_);
    auto it = last ? capsules_.upper_bound(*last) : capsules_.begin();
    for (int n = 0; n < kBatch && it != capsules_.end(); ++n, ++it) {
      fn(it->second);
      last = it->first;
    }
    if (it == capsules_.end()) return;
  }
}

void CapsuleRegistry::ApplyPatches(const std::vector<db::RowPatch>& patches) {
  absl::MutexLock l(&mu_);
  for (const db::RowPatch& p : patches) {
    auto owner = owner_.find(p.uuid());
    if (owner == owner_.end()) continue;
    auto it = capsules_.find(owner->second);
    if (it == capsules_.end()) continue;
    capsule::Capsule& c = it->second;
    if (c.record.uuid == p.uuid()) {
      db::ApplyPatchTo(p, c.record);
      continue;
    }
    for (auto* list : {&c.init_containers, &c.containers}) {
      for (auto& child : *list) {
        if (child.uuid == p.uuid()) db::ApplyPatchTo(p, child);
      }
    }
  }
}

std::map<std::string, int64_t> CapsuleRegistry::BackoffSteps(
    const capsule::Capsule& c) const {
  absl::MutexLock l(&mu_);
  std::map<std::string, int64_t> out;
  for (const auto& child : c.containers) {
    auto it = backoff_.find(child.uuid);
    if (it != backoff_.end()) out[child.uuid] = it->second;
  }
  return out;
}

void CapsuleRegistry::SetBackoffStep(const std::string& child_uuid,
                                     int64_t step) {
  absl::MutexLock l(&mu_);
  backoff_[child_uuid] = step;
}

}  // namespace zun::agent
