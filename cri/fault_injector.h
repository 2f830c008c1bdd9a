// File: fault_injector.h
// Per-method faults for the fake CRI runtime: added latency, an error rate
// drawn from a seeded generator, and "hang until the caller's deadline".
// Configured from fake-cri flags (`--fault Method=latency:100ms,error:0.1`)
// or at run time through the control service.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace zun::cri::fake {

struct MethodFaults {
  absl::Duration latency = absl::ZeroDuration();
  double error_rate = 0;  // 0..1
  absl::StatusCode error_code = absl::StatusCode::kUnavailable;
  bool hang = false;  // block until the caller's deadline passes
};

// Parses "latency:100ms,error:0.25,code:14,hang" (any subset).
absl::StatusOr<MethodFaults> ParseMethodFaults(std::string_view spec);

class FaultInjector {
 public:
  FaultInjector(Clock& clock, uint64_t seed);

  // `method` "*" applies to every method without its own entry.
  void Set(const std::string& method, const MethodFaults& faults);
  void Clear();
  // Parses and applies "Method=spec" (flag syntax).
  absl::Status SetFromFlag(std::string_view flag);

  // Applies the faults of `method` for one call: sleeps the latency, hangs
  // until `deadline` if asked (returning DEADLINE_EXCEEDED), or returns the
  // injected error. OK means: serve the call normally. Unless `may_wait`,
  // the call only counts: it was found without faults when it arrived, and
  // is served as if it came before any set since.
  absl::Status Apply(std::string_view method, absl::Time deadline,
                     bool may_wait = true);
  // Like Apply, but returns the latency instead of sleeping it (for calls
  // that spend it in the middle of their work, like RunPodSandbox, which
  // reserves the name first).
  absl::StatusOr<absl::Duration> Check(std::string_view method,
                                       absl::Time deadline,
                                       bool may_wait = true);
  std::map<std::string, int64_t> AllCalls();
  // Whether any fault is set for `method` (or for every method): a call
  // without one never waits, and may be served without a thread of its own.
  bool HasFaults(std::string_view method);

  // Number of calls seen per method (for tests).
  int64_t Calls(const std::string& method);

 private:
  Clock& clock_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, MethodFaults, std::less<>> faults_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t, std::less<>> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::cri::fake
