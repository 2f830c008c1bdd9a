// File: pod_plan.h
// The one place that decides what to do with a capsule. `PlanPod` takes the
// desired capsule (its rows), what the runtime reports of it and why the
// caller is converging it, and returns a typed plan: sandboxes to kill, the
// sandbox to create, the init container to run next (or wait for), the
// containers to start or restart with their backoff, the rows to write, and
// whether the capsule is up, failed or cancelled. kubelet's
// computePodActions is the model; CapsuleOps only carries plans out
// (observe, plan, execute, until the plan says it is done).
//
// Pure: no I/O and no clock (the caller passes `now`); thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "capsule/model.h"
#include "capsule/restart_policy.h"
#include "capsule/status_sync.h"

namespace zun::capsule {

// Why the capsule is being converged.
enum class Goal {
  // A create (first, redelivered, resumed after a crash, or a recreate of
  // a capsule whose sandbox vanished): end with every init container done
  // and every regular container started in a sandbox this create ran.
  kCreate,
  // A capsule that is up: keep its rows in line with the runtime and
  // restart what its policies say.
  kSupervise,
};

struct PlanInput {
  Goal goal = Goal::kSupervise;
  absl::Time now;
  BackoffConfig backoff;
  std::string network_name = "default";  // key of `addresses`
  // Per child uuid, the consecutive quick failures seen (the backoff
  // exponent); children without an entry use their restart count.
  std::map<std::string, int64_t> backoff_steps;
  // kCreate: the sandbox this create ran (empty before it ran one); every
  // other sandbox of the capsule is left over from an earlier attempt.
  std::string own_sandbox;
  // kCreate: when the init containers must have finished, and the timeout
  // it came from (for the failure's text).
  absl::Time init_deadline = absl::InfiniteFuture();
  absl::Duration init_timeout = absl::InfiniteDuration();
  // kCreate: a delete of the capsule arrived.
  bool cancelled = false;
  // kCreate: the pod address is the Neutron ports' (recorded already), not
  // the runtime's.
  bool ports_own_addresses = false;
};

// A container to create and start in the current sandbox.
struct PlannedStart {
  std::string child_uuid;
  bool init = false;
  uint32_t attempt = 0;                   // the CRI attempt number it takes
  std::string remove_id;                  // the exited container it replaces
  absl::Time at = absl::InfinitePast();   // not before (backoff)
  int64_t backoff_step = 0;               // the exponent `at` used
  std::optional<int32_t> last_exit_code;  // of the attempt it replaces
};

// Writes to one row: `want` holds the values, the flags say which of them
// to write (only what differs from the row).
struct RowChange {
  std::string uuid;
  RowStatus want;
  bool status = false;
  bool status_reason = false;
  bool status_detail = false;
  bool container_id = false;
  std::optional<nlohmann::json> addresses;
  bool set_started_at = false;      // started now
  bool clear_creating = false;      // the create is over: task_state goes
  bool clear_cni_metadata = false;  // the Neutron ports went
  bool empty() const {
    return !status && !status_reason && !status_detail && !container_id &&
           !addresses && !set_started_at && !clear_creating &&
           !clear_cni_metadata;
  }
};

// The change that brings `row` to `want` (only the fields that differ).
RowChange DiffRow(const ContainerRecord& row, const RowStatus& want);

struct PodPlan {
  enum class Outcome {
    kProgress,   // carry out the actions, observe, plan again
    kWait,       // nothing to do until `wake` or `wait_for` exits
    kUp,         // converged: write `rows`; the create is done, or the
                 // supervision is current until `wake`
    kFailed,     // the create fails: roll back, FailureRows(failure)
    kCancelled,  // a delete arrived during the create: roll back
    kRecreate,   // the sandbox vanished and the policy says run it again
    kPodLost,    // the sandbox vanished for good: write `rows`
  };
  Outcome outcome = Outcome::kProgress;
  std::string failure;       // kFailed: the reason a user reads
  std::string failed_child;  // kFailed: the child it is about, if any
  bool timed_out = false;    // kFailed: an init container's deadline
  std::vector<std::string> kill_sandboxes;  // stop and remove, first
  bool create_sandbox = false;
  uint32_t sandbox_attempt = 0;      // of the sandbox to create
  std::optional<PlannedStart> init;  // the init container to run next
  std::string wait_for;  // the child (uuid) whose exit the create awaits
  std::vector<PlannedStart> starts;          // regular containers, due now
  absl::Time wake = absl::InfiniteFuture();  // earliest start not yet due
  std::vector<RowChange> rows;               // to write
};

// The row a child should read once `start` gave it container `id`.
RowStatus StartedRow(const PlannedStart& start, const std::string& id);

// The rows of a create that failed with `reason`: the capsule Error with
// no sandbox, `failed_child` Error with the reason, every other child
// Error "not started: the capsule failed"; task_state creating cleared.
// With Neutron ports, `addresses` is emptied as the ports go.
std::vector<RowChange> FailureRows(const Capsule& capsule,
                                   const std::string& reason,
                                   const std::string& failed_child,
                                   bool ports_own_addresses);

PodPlan PlanPod(const Capsule& capsule, const ObservedPod& observed,
                const PlanInput& input);

// Applies the status columns and addresses of `rows` to the in-memory
// `capsule` (what a read shows before the writes land).
void ApplyRowChanges(const std::vector<RowChange>& rows, Capsule& capsule);

}  // namespace zun::capsule
