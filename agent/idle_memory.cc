#include "agent/idle_memory.h"

#include <malloc.h>

#include <utility>

namespace zun::agent {

IdleMemoryRelease::IdleMemoryRelease(absl::Duration quiet_for,
                                     std::function<void()> release)
    : quiet_for_(quiet_for), release_(std::move(release)) {
  if (!release_) release_ = [] { malloc_trim(0); };
}

bool IdleMemoryRelease::MaybeRelease(uint64_t activity, size_t in_flight,
                                     absl::Time now) {
  if (activity != seen_ || in_flight != 0) {
    seen_ = activity;
    busy_at_ = now;
    return false;
  }
  if (activity == released_at_ || now - busy_at_ < quiet_for_) return false;
  release_();
  released_at_ = activity;
  ++releases_;
  return true;
}

}  // namespace zun::agent
