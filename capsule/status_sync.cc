#include "capsule/status_sync.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capsule/mapper.h"
#include "capsule/status.h"

namespace zun::capsule {
namespace {

std::string ExitText(const ObservedContainer& c) {
  return absl::StrCat(
      "exited with code ", c.exit_code,
      c.reason.empty() ? "" : absl::StrCat(" (", c.reason, ")"));
}

std::optional<std::string> RestartsDetail(uint32_t restarts) {
  if (restarts == 0) return std::nullopt;
  return absl::StrCat("restarts: ", restarts);
}

}  // namespace

std::optional<std::string> RestartDetail(uint32_t restarts,
                                         std::optional<int32_t> last_exit) {
  std::optional<std::string> d = RestartsDetail(restarts);
  if (d && last_exit) absl::StrAppend(&*d, "; last exit ", *last_exit);
  if (d && d->size() > 50) d->resize(50);
  return d;
}

RowStatus StatusOf(const ContainerRecord& r) {
  return RowStatus{r.status, r.status_reason, r.status_detail, r.container_id};
}

nlohmann::json AddressesFor(const std::string& network, const std::string& ip) {
  nlohmann::json a = nlohmann::json::object();
  if (ip.empty()) return a;
  a[network] = nlohmann::json::array(
      {{{"addr", ip},
        {"version", ip.find(':') == std::string::npos ? 4 : 6},
        {"port", nullptr},
        {"subnet_id", nullptr},
        {"preserve_on_delete", false}}});
  return a;
}

SyncPlan PlanSync(const Capsule& capsule, const ObservedPod& pod,
                  const std::map<std::string, int64_t>& backoff_steps,
                  const SyncOptions& options) {
  SyncPlan plan;
  if (!pod.present || pod.state != cri::SandboxState::kReady) {
    plan.pod_gone = true;
    return plan;
  }
  plan.addresses = AddressesFor(options.network_name, pod.ip);
  // Init containers: finished during create; report what they did.
  for (const ContainerRecord& init : capsule.init_containers) {
    RowStatus s = StatusOf(init);
    auto it = pod.containers.find(init.uuid);
    if (it != pod.containers.end()) {
      const ObservedContainer& o = it->second;
      s.container_id = o.id;
      s.status = std::string(StatusOfContainerState(o.state));
      if (o.state == cri::ContainerState::kExited) {
        s.status =
            std::string(o.exit_code == 0 ? kStatusStopped : kStatusError);
        s.status_reason = o.exit_code == 0
                              ? std::nullopt
                              : std::optional<std::string>(ExitText(o));
        s.status_detail = absl::StrCat("Completed (exit ", o.exit_code, ")");
      }
    }
    plan.children[init.uuid] = s;
  }
  int running = 0, stopped_ok = 0;
  std::optional<std::string> failure;
  for (const ContainerRecord& child : capsule.containers) {
    const RestartPolicy policy = PolicyFor(capsule, child);
    RowStatus s;
    auto it = pod.containers.find(child.uuid);
    if (it == pod.containers.end()) {
      s.status = std::string(kStatusError);
      s.status_reason = "container not found in the runtime";
      s.container_id = std::nullopt;
      if (policy.kind != RestartPolicy::Kind::kNo) {
        plan.restarts.push_back(PlannedRestart{
            child.uuid, "", 0, 0, absl::InfinitePast(), std::nullopt});
        s.status = std::string(kStatusRestarting);
        ++running;
      } else {
        failure = failure.value_or(absl::StrCat("container '",
                                                ContainerNameFor(child),
                                                "' is gone from the runtime"));
      }
      plan.children[child.uuid] = s;
      continue;
    }
    const ObservedContainer& o = it->second;
    s.container_id = o.id;
    s.status_detail = RestartsDetail(o.attempt);
    // The last exit code of a restarted container is only in its row (the
    // old container is removed): keep it while the attempt is the same.
    if (s.status_detail && child.status_detail &&
        absl::StartsWith(*child.status_detail, *s.status_detail + "; ")) {
      s.status_detail = child.status_detail;
    }
    switch (o.state) {
      case cri::ContainerState::kRunning:
        s.status = std::string(kStatusRunning);
        ++running;
        break;
      case cri::ContainerState::kCreated:
        s.status = std::string(kStatusCreated);
        ++running;
        break;
      case cri::ContainerState::kUnknown:
        s.status = std::string(kStatusUnknown);
        s.status_reason = "the runtime reports the container state as unknown";
        ++running;
        break;
      case cri::ContainerState::kExited: {
        if (policy.ShouldRestart(o.exit_code, o.attempt)) {
          const absl::Duration ran =
              absl::Nanoseconds(o.finished_at - o.started_at);
          int64_t step = o.attempt;
          if (auto b = backoff_steps.find(child.uuid);
              b != backoff_steps.end()) {
            step = b->second;
          }
          if (o.started_at > 0 && ran >= options.backoff.reset_after) step = 0;
          const absl::Duration delay = RestartDelay(options.backoff, step);
          plan.restarts.push_back(PlannedRestart{
              child.uuid, o.id, o.attempt + 1, step,
              absl::FromUnixNanos(o.finished_at) + delay, o.exit_code});
          s.status = std::string(kStatusRestarting);
          s.status_reason = absl::StrCat(ExitText(o), "; restarting after ",
                                         absl::FormatDuration(delay));
          ++running;
        } else if (o.exit_code == 0) {
          s.status = std::string(kStatusStopped);
          s.status_reason = ExitText(o);
          ++stopped_ok;
        } else {
          s.status = std::string(kStatusError);
          s.status_reason = ExitText(o);
          failure = failure.value_or(absl::StrCat(
              "container '", ContainerNameFor(child), "' ", ExitText(o)));
        }
        break;
      }
    }
    if (s.status_detail && s.status_detail->size() > 50)
      s.status_detail->resize(50);
    plan.children[child.uuid] = s;
  }
  plan.capsule.container_id = pod.sandbox_id;
  if (running > 0) {
    plan.capsule.status = std::string(kStatusRunning);
  } else if (failure) {
    plan.capsule.status = std::string(kStatusError);
    plan.capsule.status_reason = failure;
  } else {
    plan.capsule.status = std::string(kStatusStopped);
    plan.capsule.status_reason = "all containers exited with code 0";
  }
  (void)stopped_ok;
  plan.capsule.status_detail = capsule.record.status_detail;
  return plan;
}

}  // namespace zun::capsule
