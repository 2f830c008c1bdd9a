#include "agent/idle_memory.h"

#include <malloc.h>

#include <utility>

namespace zun::agent {

IdleMemoryRelease::IdleMemoryRelease(std::function<void()> release)
    : release_(std::move(release)) {
  if (!release_) release_ = [] { malloc_trim(0); };
}

bool IdleMemoryRelease::MaybeRelease(uint64_t activity, size_t in_flight) {
  const bool quiet = activity == seen_;
  seen_ = activity;
  if (in_flight != 0 || !quiet || activity == released_at_) return false;
  release_();
  released_at_ = activity;
  ++releases_;
  return true;
}

}  // namespace zun::agent
