// File: idle_memory.h
// Gives the heap's free pages back to the kernel once the node is idle
// after a burst of capsule operations. glibc keeps what a burst freed in
// the middle of its heaps (hundreds of workers' buffers), so without this
// the resident set stays at the burst's peak for as long as the agent runs.
//
// Thread-compatible: called from one thread (the reconciler's, after each
// relist).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace zun::agent {

class IdleMemoryRelease {
 public:
  // `quiet_for`: how long the node must have had no new work before its
  // memory goes back. `release` returns free memory to the kernel
  // (malloc_trim by default; tests count calls instead).
  explicit IdleMemoryRelease(absl::Duration quiet_for = absl::Seconds(10),
                             std::function<void()> release = {});

  // Releases once per burst: when there was activity since the last
  // release, and none, nor any operation in flight, for `quiet_for` up to
  // `now` (the caller's clock). `activity` only grows: operations
  // submitted, and threads retired (what they held is freed after the
  // burst's release). In steady state (no activity) it costs nothing.
  // Under a steady trickle of work it never releases: the moments between
  // two operations are not idleness, and malloc_trim then held each
  // arena's lock while the next operations allocated (the spikes of a
  // paced run, every relist that found nothing in flight). Nor in a short
  // lull between two bursts: the pages it gave back were faulted in again
  // by the next burst's first creates (their latency doubled, measured).
  // Returns whether it released.
  bool MaybeRelease(uint64_t activity, size_t in_flight, absl::Time now);

  int releases() const { return releases_; }

 private:
  const absl::Duration quiet_for_;
  std::function<void()> release_;
  uint64_t released_at_ = 0;
  uint64_t seen_ = 0;  // `activity` at the previous call
  absl::Time busy_at_ = absl::InfinitePast();  // last seen busy or changed
  int releases_ = 0;
};

}  // namespace zun::agent
