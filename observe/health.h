// File: health.h
// Health of the agent's neighbours (message bus, database, container
// runtime) for /healthz. Each probe runs on a thread of its own every
// `interval`, so a scrape never waits on a hung neighbour and one hung probe
// does not delay the others: /healthz reports the last results, and a probe
// with no result for 3 intervals (it hangs) counts as failing.
//
// Thread-safe: Current() may be called from any thread.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "cri/cri_client.h"

namespace zun::observe {

struct HealthProbe {
  std::string name;                     // "bus", "database", "runtime"
  std::function<absl::Status()> check;  // must bound its own time
  // A failing critical check makes the agent unhealthy (503); others are
  // reported only (e.g. Placement: capsules keep running without it).
  bool critical = true;
};

struct HealthCheckResult {
  std::string name;
  bool critical = true;
  bool ok = false;
  std::string message;  // why not ok; empty when ok
  absl::Time checked_at = absl::InfinitePast();
};

struct HealthReport {
  bool healthy = false;
  std::vector<HealthCheckResult> checks;
  // {"status": "ok"|"unhealthy", "checks": {name: {"ok", "message",
  // "age_seconds"}}}
  std::string ToJson(absl::Time now) const;
};

// The runtime probe: CRI Status answers and reports RuntimeReady and
// NetworkReady true.
absl::Status RuntimeHealth(cri::CriClient& cri);

class HealthMonitor {
 public:
  HealthMonitor(std::vector<HealthProbe> probes, Clock& clock,
                absl::Duration interval = absl::Seconds(2));
  ~HealthMonitor();  // stops

  // Starts probing (the first results arrive within one probe's time).
  void Start();
  void Stop();
  HealthReport Current() const;

 private:
  void ProbeOnce(size_t i);
  void Loop(size_t i);

  const std::vector<HealthProbe> probes_;
  Clock& clock_;
  const absl::Duration interval_;
  Waker stop_;
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  std::vector<HealthCheckResult> results_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::observe
