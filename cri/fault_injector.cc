#include "cri/fault_injector.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace zun::cri::fake {

absl::StatusOr<MethodFaults> ParseMethodFaults(std::string_view spec) {
  MethodFaults f;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(spec.data(), spec.size()), ',',
                      absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits(':', 1));
    if (kv.first == "latency") {
      if (!absl::ParseDuration(kv.second, &f.latency)) {
        return absl::InvalidArgumentError(absl::StrCat("bad latency: ", part));
      }
    } else if (kv.first == "error") {
      if (!absl::SimpleAtod(kv.second, &f.error_rate) || f.error_rate < 0 ||
          f.error_rate > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad error rate: ", part));
      }
    } else if (kv.first == "code") {
      int code = 0;
      if (!absl::SimpleAtoi(kv.second, &code) || code <= 0 || code > 16) {
        return absl::InvalidArgumentError(absl::StrCat("bad code: ", part));
      }
      f.error_code = static_cast<absl::StatusCode>(code);
    } else if (kv.first == "hang") {
      f.hang = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown fault: ", part));
    }
  }
  return f;
}

FaultInjector::FaultInjector(Clock& clock, uint64_t seed)
    : clock_(clock), rng_(seed) {}

void FaultInjector::Set(const std::string& method, const MethodFaults& faults) {
  absl::MutexLock l(&mu_);
  faults_[method] = faults;
}

void FaultInjector::Clear() {
  absl::MutexLock l(&mu_);
  faults_.clear();
}

absl::Status FaultInjector::SetFromFlag(std::string_view flag) {
  std::pair<std::string, std::string> kv = absl::StrSplit(
      absl::string_view(flag.data(), flag.size()), absl::MaxSplits('=', 1));
  if (kv.first.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected Method=spec, got '", AV(flag), "'"));
  }
  absl::StatusOr<MethodFaults> f = ParseMethodFaults(kv.second);
  if (!f.ok()) return f.status();
  Set(kv.first, *f);
  return absl::OkStatus();
}

absl::Status FaultInjector::Apply(std::string_view method, absl::Time deadline,
                                  bool may_wait) {
  absl::StatusOr<absl::Duration> latency = Check(method, deadline, may_wait);
  if (!latency.ok()) return latency.status();
  if (*latency > absl::ZeroDuration()) clock_.SleepFor(*latency);
  return absl::OkStatus();
}

bool FaultInjector::HasFaults(std::string_view method) {
  absl::MutexLock l(&mu_);
  return faults_.find(AV(method)) != faults_.end() || faults_.count("*") > 0;
}

std::map<std::string, int64_t> FaultInjector::AllCalls() {
  absl::MutexLock l(&mu_);
  return std::map<std::string, int64_t>(calls_.begin(), calls_.end());
}

absl::StatusOr<absl::Duration> FaultInjector::Check(std::string_view method,
                                                    absl::Time deadline,
                                                    bool may_wait) {
  MethodFaults f;
  bool fail = false;
  {
    absl::MutexLock l(&mu_);
    ++calls_[std::string(method)];
    if (!may_wait) return absl::ZeroDuration();
    auto it = faults_.find(AV(method));
    if (it == faults_.end()) it = faults_.find("*");
    if (it == faults_.end()) return absl::ZeroDuration();
    f = it->second;
    if (f.error_rate > 0) {
      std::uniform_real_distribution<double> u(0, 1);
      fail = u(rng_) < f.error_rate;
    }
  }
  if (f.hang) {
    // Hold the call until the caller has given up (bounded, so a caller
    // without a deadline does not pin a server thread forever).
    const absl::Time until =
        std::min(deadline, clock_.Now() + absl::Minutes(5));
    clock_.SleepFor(until - clock_.Now());
    return absl::DeadlineExceededError(
        absl::StrCat("fake-cri: ", AV(method), " hung until the deadline"));
  }
  if (fail) {
    return absl::Status(
        f.error_code, absl::StrCat("fake-cri: injected error in ", AV(method)));
  }
  return f.latency;
}

int64_t FaultInjector::Calls(const std::string& method) {
  absl::MutexLock l(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

}  // namespace zun::cri::fake
