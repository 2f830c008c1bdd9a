// File: poll.h
// Waiting in tests without sleeping to synchronise: poll a condition until
// it holds or a deadline passes (for real processes and servers, whose
// progress no injected clock controls).
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace zun::testing {

// True as soon as `cond` holds; false if it still does not at the deadline.
inline bool PollUntil(const std::function<bool()>& cond,
                      absl::Duration timeout = absl::Seconds(30),
                      absl::Duration interval = absl::Milliseconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(interval));
  }
}

}  // namespace zun::testing
