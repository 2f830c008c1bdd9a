// File: restart_policy.h
// Restart policies of capsule containers, enforced by the agent (CRI has
// none), with kubelet-style exponential backoff. Pure; thread-safe.
//
// Policy (Zun / Docker names):
//   no              never restart
//   on-failure[:N]  restart after a non-zero exit, at most N times (N = 0:
//                   unlimited, as in Docker)
//   always          restart after any exit
//   unless-stopped  as always (capsules cannot be stopped by the user)
//
// Which policy applies: regular containers follow the capsule's policy (the
// pod-level policy of Kubernetes; it also sidesteps Zun API bug §10.6, which
// writes on-failure:10 into regular containers); init containers follow their
// own row's policy, else on-failure when the capsule's is always/on-failure
// and no otherwise (Kubernetes init-container semantics).
//
// Backoff: the n-th restart (n = 0, 1, ...) waits initial * 2^n, capped at
// max; a container that ran at least `reset_after` before exiting starts
// again from n = 0.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "capsule/model.h"

namespace zun::capsule {

struct RestartPolicy {
  enum class Kind { kNo, kOnFailure, kAlways, kUnlessStopped };
  Kind kind = Kind::kAlways;
  int64_t max_retries = 0;  // on-failure only; 0 = unlimited

  static RestartPolicy FromMap(const StringMap& m, Kind fallback);
  std::string ToString() const;
  // Whether a container that exited with `exit_code` after `restarts`
  // restarts so far should be restarted.
  bool ShouldRestart(int exit_code, int64_t restarts) const;
};

// The policy of a child of `capsule`, as described above.
RestartPolicy PolicyFor(const Capsule& capsule, const ContainerRecord& child);

struct BackoffConfig {
  absl::Duration initial = absl::Seconds(10);
  absl::Duration max = absl::Minutes(5);
  absl::Duration reset_after = absl::Minutes(10);
};

// Delay before restart number `restart_index` (0-based).
absl::Duration RestartDelay(const BackoffConfig& cfg, int64_t restart_index);

}  // namespace zun::capsule
