// File: capsule_registry.h
// The agent's in-memory view of the capsules on this host: each capsule's
// rows as the database holds them (as last read or written by the agent),
// so the reconciler can tell what changed without reading the database, and
// per-container restart backoff. Loaded from the database at start and on
// resyncs; updated after every successful write.
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "capsule/model.h"
#include "db/capsule_store.h"

namespace zun::agent {

class CapsuleRegistry {
 public:
  void Put(const capsule::Capsule& c);
  void Remove(const std::string& uuid);
  std::optional<capsule::Capsule> Get(const std::string& uuid) const;
  // Whether `uuid` is registered (no copy, unlike Get).
  bool Contains(const std::string& uuid) const;
  std::vector<std::string> Uuids() const;
  size_t size() const;
  // Calls `fn` for every capsule, in uuid order, holding the lock for a
  // batch of capsules at a time (fn must not call back): a relist of
  // thousands, on a low-priority thread, does not hold Put and Get for its
  // whole length. A capsule put or removed meanwhile may be seen or not;
  // every other is seen exactly once, each as one consistent state.
  void ForEach(const std::function<void(const capsule::Capsule&)>& fn) const;
  // Mirrors a successful database write.
  void ApplyPatches(const std::vector<db::RowPatch>& patches);

  // Consecutive quick failures of a container (the backoff exponent).
  std::map<std::string, int64_t> BackoffSteps(const capsule::Capsule& c) const;
  void SetBackoffStep(const std::string& child_uuid, int64_t step);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, capsule::Capsule> capsules_ ABSL_GUARDED_BY(mu_);
  // row uuid -> capsule uuid (for patches addressed to children)
  std::map<std::string, std::string> owner_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> backoff_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::agent
