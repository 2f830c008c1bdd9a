#include "observe/health.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_util.h"
#include "nlohmann/json.hpp"

namespace zun::observe {

std::string HealthReport::ToJson(absl::Time now) const {
  nlohmann::json checks_json = nlohmann::json::object();
  for (const HealthCheckResult& c : checks) {
    nlohmann::json j = {{"ok", c.ok}};
    if (!c.critical) j["critical"] = false;
    if (!c.message.empty()) j["message"] = c.message;
    if (c.checked_at != absl::InfinitePast()) {
      j["age_seconds"] = absl::ToDoubleSeconds(now - c.checked_at);
    }
    checks_json[c.name] = std::move(j);
  }
  nlohmann::json out = {{"status", healthy ? "ok" : "unhealthy"},
                        {"checks", std::move(checks_json)}};
  // Messages come from errors of our neighbours: never fail on bad UTF-8.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

absl::Status RuntimeHealth(cri::CriClient& cri) {
  absl::StatusOr<cri::RuntimeStatusInfo> st = cri.Status();
  if (!st.ok()) return st.status();
  for (const cri::RuntimeCondition& c : st->conditions) {
    if ((c.type == "RuntimeReady" || c.type == "NetworkReady") && !c.status) {
      return absl::UnavailableError(
          absl::StrCat(c.type, " is false: ", c.reason,
                       c.message.empty() ? "" : ": ", c.message));
    }
  }
  return absl::OkStatus();
}

HealthMonitor::HealthMonitor(std::vector<HealthProbe> probes, Clock& clock,
                             absl::Duration interval)
    : probes_(std::move(probes)), clock_(clock), interval_(interval) {
  absl::MutexLock l(&mu_);
  for (const HealthProbe& p : probes_) {
    results_.push_back(HealthCheckResult{
        p.name, p.critical, false, "not checked yet", absl::InfinitePast()});
  }
}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
  if (!threads_.empty()) return;
  for (size_t i = 0; i < probes_.size(); ++i) {
    threads_.emplace_back([this, i] { Loop(i); });
  }
}

void HealthMonitor::Stop() {
  stop_.Latch();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void HealthMonitor::ProbeOnce(size_t i) {
  absl::Status s;
  try {
    s = probes_[i].check();
  } catch (const std::exception& e) {
    s = absl::InternalError(e.what());
  }
  absl::MutexLock l(&mu_);
  HealthCheckResult& r = results_[i];
  r.ok = s.ok();
  r.message = s.ok() ? "" : std::string(s.message());
  r.checked_at = clock_.Now();
}

void HealthMonitor::Loop(size_t i) {
  SetCurrentThreadName("health");
  do {
    ProbeOnce(i);
  } while (!clock_.WaitFor(interval_, stop_));
}

HealthReport HealthMonitor::Current() const {
  const absl::Time now = clock_.Now();
  HealthReport report;
  {
    absl::MutexLock l(&mu_);
    report.checks = results_;
  }
  report.healthy = !report.checks.empty();
  for (HealthCheckResult& c : report.checks) {
    if (c.ok && now - c.checked_at > 3 * interval_) {
      c.ok = false;
      c.message = absl::StrCat("no result for ",
                               absl::FormatDuration(now - c.checked_at),
                               " (the check hangs)");
    }
    if (!c.ok && c.critical) report.healthy = false;
  }
  return report;
}

}  // namespace zun::observe
