// File: backoff.h
// Capped exponential backoff with jitter, for reconnects and retries.
// Thread-compatible: one Backoff per retry loop.
#pragma once

#include <cstdint>

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace zun {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(30);
  double multiplier = 2.0;
  double jitter = 0.2;  // each delay is scaled by a factor in [1-j, 1+j]
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, uint64_t seed = 0);

  // The delay before the next attempt; grows until the cap.
  absl::Duration Next();
  // Back to the initial delay (after a success).
  void Reset();
  int attempts() const { return attempts_; }

 private:
  BackoffPolicy policy_;
  absl::Duration current_;
  int attempts_ = 0;
  absl::InsecureBitGen gen_;
};

}  // namespace zun
