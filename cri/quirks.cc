#include "cri/quirks.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace zun::cri {

bool IsSandboxNameReserved(const absl::Status& s) {
  return !s.ok() &&
         absl::StrContains(s.message(), "failed to reserve sandbox name");
}

absl::StatusOr<std::string> RecoverReservedSandbox(
    CriClient& client, const PodSandboxConfig& config,
    const absl::Status& original) {
  SandboxFilter filter;
  filter.labels = config.labels;
  absl::StatusOr<std::vector<SandboxInfo>> list = client.ListPodSandbox(filter);
  if (!list.ok()) return list.status();
  for (const SandboxInfo& sb : *list) {
    if (sb.name != config.name || sb.uid != config.uid ||
        sb.namespace_ != config.namespace_ || sb.attempt != config.attempt) {
      continue;
    }
    if (sb.state == SandboxState::kReady) {
      ZUN_LOG(kCri, info, "adopting sandbox '{}' left by an earlier attempt",
              sb.id);
      return sb.id;
    }
    ZUN_LOG(kCri, warn,
            "removing NOTREADY sandbox '{}' that holds the name of '{}'", sb.id,
            config.name);
    if (absl::Status s = client.StopPodSandbox(sb.id); !s.ok()) return s;
    if (absl::Status s = client.RemovePodSandbox(sb.id); !s.ok()) return s;
    return absl::AbortedError(absl::StrCat(
        "removed a failed sandbox of an earlier attempt; retry with a new "
        "attempt: ",
        original.message()));
  }
  return absl::UnavailableError(
      absl::StrCat("sandbox name is reserved by a creation still in progress: ",
                   original.message()));
}

}  // namespace zun::cri
