// File: status_sync.h
// What the database should say about a capsule, given what the runtime
// reports: the status columns of the capsule and of each child, and which
// containers to restart when. Pure (the caller passes `now`); thread-safe.
//
// Child rows:
//   RUNNING                         Running
//   CREATED                         Created
//   EXITED, to be restarted         Restarting  "exited with code 1 (Error);
//                                               restart 3 in 40s"
//   EXITED for good, code 0         Stopped     "exited with code 0
//   (Completed)" EXITED for good, code != 0      Error       "exited with code
//   137 (OOMKilled)" gone from a READY sandbox       Error       "container not
//   found in the
//                                               runtime" (restarted per policy)
// status_detail holds "restarts: N" once a container has been restarted.
// Capsule row: Running while its sandbox is READY and any regular container
// runs or will be restarted; Stopped when all regular containers exited for
// good with 0; Error when some exited for good with another code (the reason
// names it); `pod_gone` when the sandbox is missing or NOTREADY (the caller
// recreates or fails it per policy). `addresses` carries the pod IP.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "capsule/model.h"
#include "capsule/restart_policy.h"
#include "cri/types.h"
#include "nlohmann/json.hpp"

namespace zun::capsule {

// The newest container of one child, as the runtime reports it.
struct ObservedContainer {
  std::string id;
  uint32_t attempt = 0;
  cri::ContainerState state = cri::ContainerState::kUnknown;
  int32_t exit_code = 0;
  std::string reason;
  int64_t started_at = 0;   // ns
  int64_t finished_at = 0;  // ns
};

struct ObservedPod {
  bool present = false;  // a sandbox with our labels exists
  std::string sandbox_id;
  uint32_t sandbox_attempt = 0;
  cri::SandboxState state = cri::SandboxState::kNotReady;
  std::string ip;
  // By child uuid (the container-uuid label); newest attempt only.
  std::map<std::string, ObservedContainer> containers;
  // The capsule's other sandboxes (older attempts): id, attempt.
  std::vector<std::pair<std::string, uint32_t>> other_sandboxes;
};

// The status columns the agent owns, as the DB should hold them.
struct RowStatus {
  std::optional<std::string> status;
  std::optional<std::string> status_reason;
  std::optional<std::string> status_detail;
  std::optional<std::string> container_id;
  bool operator==(const RowStatus& o) const = default;
};

struct PlannedRestart {
  std::string child_uuid;
  std::string old_container_id;
  uint32_t next_attempt = 0;
  int64_t backoff_step = 0;               // the exponent used for `at`
  absl::Time at;                          // when the backoff allows it
  std::optional<int32_t> last_exit_code;  // of the attempt being replaced
};

// The status_detail of a restarted container: "restarts: N" and, once
// known, "; last exit C" (at most 50 characters, Zun's column).
std::optional<std::string> RestartDetail(uint32_t restarts,
                                         std::optional<int32_t> last_exit);

struct SyncPlan {
  RowStatus capsule;
  nlohmann::json addresses;                   // null: leave as is
  std::map<std::string, RowStatus> children;  // by child uuid
  std::vector<PlannedRestart> restarts;
  bool pod_gone = false;
};

struct SyncOptions {
  BackoffConfig backoff;
  std::string network_name = "default";  // key of `addresses`
};

// `backoff_steps`: per child uuid, the consecutive quick failures the caller
// has seen (the backoff exponent); children without an entry use their
// restart count.
SyncPlan PlanSync(const Capsule& capsule, const ObservedPod& pod,
                  const std::map<std::string, int64_t>& backoff_steps,
                  const SyncOptions& options);

// The RowStatus a record holds now.
RowStatus StatusOf(const ContainerRecord& r);

// {"<network>": [{"addr": ip, "version": 4|6, ...}]} as Zun writes it.
nlohmann::json AddressesFor(const std::string& network, const std::string& ip);

}  // namespace zun::capsule
