// File: capsule_create_run.h  (internal to agent/)
// The state of one create while CapsuleOps carries it out (capsule_create.cc
// and capsule_execute.cc). Owned by the create's thread; `failed_child` is
// also written by the helper threads that start containers, under `mu`.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "agent/capsule_ops.h"
#include "capsule/status_sync.h"

namespace zun::agent {

// The sandbox's address, read on a helper thread beside the container
// starts. Shared with that thread, which writes `result` before `done`.
struct SandboxIpFetch {
  std::string sandbox_id;
  absl::Notification done;
  absl::StatusOr<cri::SandboxStatusInfo> result =
      absl::UnknownError("not read");
};

struct CapsuleOps::CreateRun {
  std::string uuid;
  db::ActionContext ctx;
  CreateHints hints;
  capsule::Capsule capsule;
  std::shared_ptr<OpToken> token;
  std::string handler;
  cri::PodSandboxConfig sandbox_config;
  std::string sandbox_id;
  std::map<std::string, std::string> image_refs;  // image -> ref to run
  // What the runtime holds of the capsule: observed before the first plan
  // (unless `fresh`), then kept up to date from the results of our calls.
  capsule::ObservedPod pod;
  absl::Mutex mu;
  std::string failed_child ABSL_GUARDED_BY(mu);  // uuid the failure is about
  std::optional<int64_t> event_id;  // the create's action event, if recorded
  // First delivery of the request, not a recreate or a resumed create:
  // nothing of an earlier attempt is expected in the runtime.
  bool fresh = false;
  // Acknowledges the request (once); deferred until the ports are recorded.
  absl::AnyInvocable<void()>* on_claimed = nullptr;
  nlohmann::json addresses;  // the Neutron ports' addresses, once bound
  // The address read of the last sandbox run (none with Neutron ports, whose
  // addresses are ours), until the plan that declares the capsule up.
  std::shared_ptr<SandboxIpFetch> ip_fetch;

  void Ack() {
    if (on_claimed == nullptr) return;
    (*on_claimed)();
    on_claimed = nullptr;
  }

  bool cancelled() const { return token->cancelled.load(); }
  void SetFailed(const std::string& child) {
    absl::MutexLock l(&mu);
    if (failed_child.empty()) failed_child = child;
  }
};

// `s` with its message prefixed by the step that failed, code kept.
inline absl::Status Step(const std::string& what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

inline absl::Status CancelledByDelete() {
  return absl::CancelledError("cancelled: a delete of the capsule arrived");
}

}  // namespace zun::agent
