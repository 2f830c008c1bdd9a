#include "capsule/restart_policy.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace zun::capsule {

RestartPolicy RestartPolicy::FromMap(const StringMap& m, Kind fallback) {
  RestartPolicy p;
  p.kind = fallback;
  auto name = m.find("Name");
  if (name != m.end() && !name->second.empty()) {
    const std::string& n = name->second;
    if (n == "no") p.kind = Kind::kNo;
    if (n == "on-failure") p.kind = Kind::kOnFailure;
    if (n == "always") p.kind = Kind::kAlways;
    if (n == "unless-stopped") p.kind = Kind::kUnlessStopped;
  }
  auto max = m.find("MaximumRetryCount");
  if (max != m.end()) {
    int64_t v = 0;
    if (absl::SimpleAtoi(max->second, &v) && v > 0) p.max_retries = v;
  }
  return p;
}

std::string RestartPolicy::ToString() const {
  switch (kind) {
    case Kind::kNo:
      return "no";
    case Kind::kOnFailure:
      return max_retries > 0 ? absl::StrCat("on-failure:", max_retries)
                             : "on-failure";
    case Kind::kAlways:
      return "always";
    case Kind::kUnlessStopped:
      return "unless-stopped";
  }
  return "no";
}

bool RestartPolicy::ShouldRestart(int exit_code, int64_t restarts) const {
  switch (kind) {
    case Kind::kNo:
      return false;
    case Kind::kOnFailure:
      return exit_code != 0 && (max_retries == 0 || restarts < max_retries);
    case Kind::kAlways:
    case Kind::kUnlessStopped:
      return true;
  }
  return false;
}

RestartPolicy PolicyFor(const Capsule& capsule, const ContainerRecord& child) {
  const RestartPolicy pod = RestartPolicy::FromMap(
      capsule.record.restart_policy, RestartPolicy::Kind::kAlways);
  if (child.container_type != ContainerType::kCapsuleInitContainer) return pod;
  const RestartPolicy::Kind fallback = pod.kind == RestartPolicy::Kind::kNo
                                           ? RestartPolicy::Kind::kNo
                                           : RestartPolicy::Kind::kOnFailure;
  RestartPolicy init = RestartPolicy::FromMap(child.restart_policy, fallback);
  // An init container must finish: "always" means retrying failures.
  if (init.kind == RestartPolicy::Kind::kAlways ||
      init.kind == RestartPolicy::Kind::kUnlessStopped) {
    init.kind = RestartPolicy::Kind::kOnFailure;
  }
  if (pod.kind == RestartPolicy::Kind::kNo)
    init.kind = RestartPolicy::Kind::kNo;
  return init;
}

absl::Duration RestartDelay(const BackoffConfig& cfg, int64_t restart_index) {
  absl::Duration d = cfg.initial;
  for (int64_t i = 0; i < restart_index && d < cfg.max; ++i) d *= 2;
  return std::min(d, cfg.max);
}

}  // namespace zun::capsule
