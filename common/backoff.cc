#include "common/backoff.h"

#include <algorithm>

namespace zun {

Backoff::Backoff(BackoffPolicy policy, uint64_t seed)
    : policy_(policy),
      current_(policy.initial),
      gen_(std::seed_seq{static_cast<uint32_t>(seed),
                         static_cast<uint32_t>(seed >> 32)}) {}

absl::Duration Backoff::Next() {
  ++attempts_;
  absl::Duration base = current_;
  current_ = std::min(policy_.max, current_ * policy_.multiplier);
  if (policy_.jitter <= 0) return base;
  double f = absl::Uniform(gen_, 1.0 - policy_.jitter, 1.0 + policy_.jitter);
  return std::min(policy_.max, base * f);
}

void Backoff::Reset() {
  current_ = policy_.initial;
  attempts_ = 0;
}

}  // namespace zun
