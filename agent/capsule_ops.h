// File: capsule_ops.h
// The capsule operations: create, delete, show, and the per-capsule sync
// that supervises running capsules. Each runs to completion on the calling
// thread (a KeyedExecutor worker, so operations on one capsule never
// overlap). Every step is idempotent, so an operation may be repeated after
// a crash or a redelivered message: create adopts or replaces what an
// earlier attempt left, delete succeeds when things are already gone.
//
// Create: claim the capsule for this host (host, task_state), record the
// action, validate and map (nothing touches the runtime if that fails),
// bind its Neutron ports, then converge: capsule::PlanPod decides, from the
// rows and what the runtime holds, what comes next (remove sandboxes left
// by earlier attempts, run the sandbox, run the init containers one at a
// time to a zero exit with their policy's backoff, start the regular
// containers concurrently, write the rows Running), and the executor
// (capsule_execute.cc) carries each plan out and plans again. Any failure
// removes what was created and writes capsule::FailureRows with a reason a
// user can act on. A delete that arrives meanwhile cancels it.
//
// Sync: observes the capsule's sandboxes and containers, plans with the
// supervising goal and carries the plan out: the status columns that
// changed, the restarts that are due (the others set the next wake-up), or
// a recreate (through Create) when the sandbox vanished and the policy
// says so.
//
// Thread-safe: different capsules may be operated on concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/capsule_ports.h"
#include "agent/capsule_registry.h"
#include "agent/image_puller.h"
#include "agent/keyed_executor.h"
#include "agent/pod_log_index.h"
#include "capsule/mapper.h"
#include "capsule/pod_plan.h"
#include "capsule/restart_policy.h"
#include "capsule/status_sync.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "cri/cri_client.h"
#include "db/capsule_store.h"

namespace zun::agent {

struct OpsOptions {
  capsule::MapperOptions mapper;
  std::string network_name = "default";  // key of `addresses`
  absl::Duration stop_grace = absl::Seconds(10);
  // How long the init containers of one create may take together.
  absl::Duration init_container_timeout = absl::Hours(1);
  capsule::BackoffConfig restart_backoff;
  std::string cgroup_fs_root = "/sys/fs/cgroup";
  std::string volume_dir = "/var/lib/zun/mnt";  // local volumes live here
  // Retries of database calls while the database is unreachable.
  BackoffPolicy db_retry{absl::Milliseconds(100), absl::Seconds(5), 2.0, 0.2};
  absl::Duration db_retry_budget = absl::Minutes(2);
  // Attempts at claiming a capsule for a create while the database errs
  // transiently (about a minute in all); then the create fails for good.
  BackoffPolicy claim_retry{absl::Seconds(1), absl::Seconds(30), 2.0, 0.2};
  int claim_attempts = 6;
  // Called when an operation ends, e.g. to feed metrics. `op` is one of
  // create, delete, sync, restart, orphan_remove, show; `result` is ok,
  // error, cancelled (create), interrupted (create stopped by shutdown,
  // resumed at the next start), skipped (nothing to do), requeued (database
  // unreachable, the request stays queued) or not_found. Thread-safe, fast.
  std::function<void(std::string_view op, std::string_view result,
                     absl::Duration took)>
      on_operation;
  // The Fernet key of registry passwords (ZunFernetKey of
  // [DEFAULT] auth_encryption_key).
  std::string registry_key;
  // Called with the uuid of a capsule whose Placement allocation must go:
  // it was deleted, its create failed, or it was refused. Thread-safe,
  // non-blocking (the PlacementReporter queues and retries). Optional.
  std::function<void(const std::string& uuid)> release_allocation;
  // Threads that make runtime calls beside a create's own (container
  // starts, image look-ups, the sandbox's address) number up to twice this
  // (a create has up to two calls beside its own): reused across creates,
  // created on demand, retired after kIdleThreadTimeout; calls beyond that
  // wait for one. zun-agent sets it to [compute] max_concurrent_operations.
  int start_helpers = 32;
};

// What the create message says beyond the capsule uuid.
struct CreateHints {
  std::string network;  // requested_networks[0].network, if any
  // Every entry of requested_networks (Neutron ports, [network] driver cni).
  std::vector<RequestedNetwork> networks;
  // A create resumed by the reconciler (no request at hand). With Neutron
  // ports and none recorded yet, it waits for the request, which was not
  // acknowledged and comes again.
  bool resume = false;
  // The request reaches a node for the first time (rpc::Delivery::
  // first_delivery): no earlier attempt of this create can have left a
  // sandbox, so the create does not list the runtime for one first; if the
  // sandbox cannot be run (an earlier create of the capsule that failed to
  // roll back holds its name), it looks then and retries once.
  bool first_delivery = false;
};

class CapsuleOps {
 public:
  // `ports` (optional, outlives this) gives capsules Neutron ports: they
  // are bound, and `addresses` and `cni_metadata` written, before the
  // sandbox runs (zun-cni-daemon plugs them), and released on delete and
  // on a failed create. A create's request is acknowledged only once its
  // ports are recorded, so a crash before that redelivers it.
  CapsuleOps(db::CapsuleStore& store, cri::CriClient& cri, Clock& clock,
             CapsuleRegistry& registry, OpsOptions options,
             PortBinder* ports = nullptr);

  // Creates capsule `uuid`. `on_claimed` runs once the claim is durable (or
  // is known to be pointless: capsule gone or owned by another host); it is
  // not called when the database stayed unreachable, so the request can be
  // redelivered. Failures are recorded on the capsule, not returned. With
  // `recreate`, a capsule that is already Running is created anew (its
  // sandbox vanished).
  void Create(const std::string& uuid, const db::ActionContext& ctx,
              const CreateHints& hints, absl::AnyInvocable<void()> on_claimed,
              bool recreate = false);

  // Refuses work this node does not do (a plain container): writes the row
  // Error with `reason` and the action's failure, and releases the
  // allocation, as zun-compute does when a claim fails. Retries while the
  // database is unreachable (within the retry budget).
  void Refuse(const std::string& uuid, const db::ActionContext& ctx,
              const std::string& reason);

  // Deletes capsule `uuid`: stops its containers (grace period unless
  // `force`), stops and removes its sandboxes, removes its pod cgroups and
  // deletes the rows. OK when it is already gone; on failure the capsule is
  // written Error with the reason, and the error is returned.
  absl::Status Delete(const std::string& uuid, bool force,
                      const db::ActionContext& ctx);

  // Asks a create of `uuid` that is in progress to stop and roll back (a
  // delete arrived). Thread-safe, non-blocking.
  void RequestCancel(const std::string& uuid);

  // The capsule with statuses refreshed from the runtime. NOT_FOUND if the
  // capsule does not exist.
  absl::StatusOr<capsule::Capsule> Show(const std::string& uuid);

  // Brings capsule `uuid`'s rows in line with the runtime and restarts
  // containers that are due. Returns when it wants to run again (the
  // earliest pending restart), or InfiniteFuture.
  absl::StatusOr<absl::Time> Sync(const std::string& uuid);

  // Removes the sandboxes (and pod cgroups) of `uuid` when the database
  // confirms they belong to no capsule of this host: the row is gone or
  // another host's, or its create failed. Returns whether it removed them.
  absl::StatusOr<bool> RemoveOrphan(const std::string& uuid);

  // Makes pending waits and database retries give up (shutdown).
  void Stop();

  const OpsOptions& options() const { return options_; }
  // Helper threads retired after their idle timeout (only grows).
  uint64_t HelpersRetired() const { return helpers_->Retired(); }

 private:
  struct CreateRun;
  // The bodies of Create/Delete/RemoveOrphan; return the result to report.
  std::string_view CreateOnce(const std::string& uuid,
                              const db::ActionContext& ctx,
                              const CreateHints& hints,
                              absl::AnyInvocable<void()>& on_claimed,
                              bool recreate);
  absl::Status DeleteOnce(const std::string& uuid, bool force,
                          const db::ActionContext& ctx);
  absl::StatusOr<bool> RemoveOrphanOnce(const std::string& uuid);
  absl::StatusOr<absl::Time> SyncOnce(const std::string& uuid);
  void ReportOp(std::string_view op, std::string_view result,
                absl::Time start) const;
  // The credentials to pull `child`'s image with, if it names a registry:
  // the password decrypted as Zun stores it. FAILED_PRECONDITION naming the
  // registry (never the secret) if it does not decrypt with our key.
  absl::StatusOr<std::optional<cri::AuthConfig>> RegistryAuth(
      const capsule::Capsule& c, const capsule::ContainerRecord& child) const;
  // Hands the capsule's Placement allocation to release_allocation.
  void ReleaseAllocation(const std::string& uuid) const;
  absl::Status RunCreate(CreateRun& run);
  // Binds the capsule's Neutron ports and records them (addresses,
  // cni_metadata) before the sandbox runs.
  absl::Status BindPorts(CreateRun& run);
  // Releases the capsule's ports (none without a PortBinder).
  absl::Status ReleasePorts(const std::string& uuid,
                            const nlohmann::json& addresses);
  void FailCreate(CreateRun& run, const absl::Status& why);
  // A create whose claim failed for good: Error with `reason`, allocation
  // released.
  void FailUnclaimed(const std::string& uuid, const db::ActionContext& ctx,
                     const std::string& reason);
  // The executor (capsule_execute.cc): plans with capsule::PlanPod and
  // carries the plans out until the capsule is up, failed or cancelled.
  absl::Status Converge(CreateRun& run);
  // Stops and removes sandboxes the plan says are left over.
  absl::Status KillSandboxes(CreateRun& run,
                             const std::vector<std::string>& ids);
  // Runs the sandbox (attempt `attempt`) while its images are made present
  // on a helper thread, and starts reading its address on another (the
  // plan that declares the capsule up waits for it: AwaitSandboxIp); or,
  // when a first delivery's sandbox cannot run, looks for what an earlier
  // create left (the next plan removes it).
  absl::Status RunSandbox(CreateRun& run, uint32_t attempt);
  // Resolves every image of the capsule not resolved yet into
  // `run.image_refs`; on failure, `*failed_child` is the container whose
  // image failed. Reads `run` only where RunSandbox leaves it unchanged.
  absl::Status EnsureImages(CreateRun& run, std::string* failed_child);
  // The address read RunSandbox started, into `run.pod.ip` (if it is still
  // the sandbox's).
  absl::Status AwaitSandboxIp(CreateRun& run);
  // Runs `task` on a helper thread (here if the helpers are shutting down).
  void Beside(const std::string& key, const std::function<void()>& task);
  // Reads the state of init container `uuid`; waits `poll` (and doubles
  // it, up to 1 s) while it runs.
  absl::Status WatchInit(CreateRun& run, const std::string& uuid,
                         absl::Duration& poll);
  absl::StatusOr<std::string> StartContainer(CreateRun& run,
                                             const capsule::ContainerRecord& c,
                                             uint32_t attempt);
  // Starts `starts` concurrently (helper threads) and records their ids.
  absl::Status StartContainers(
      CreateRun& run, const std::vector<capsule::PlannedStart>& starts);
  // The typed row writes of a plan's row changes.
  std::vector<db::RowPatch> ToPatches(
      const std::vector<capsule::RowChange>& rows) const;
  absl::Status ResolveVolumes(capsule::Capsule& c);
  // Carries out a supervising plan's restart of `start` in `pod`'s sandbox.
  absl::Status RestartChild(const capsule::Capsule& c,
                            const capsule::ObservedPod& pod,
                            const capsule::PlannedStart& start);
  absl::StatusOr<capsule::ObservedPod> Observe(const std::string& uuid);
  absl::Status RemoveSandboxes(const std::string& uuid,
                               const std::optional<std::string>& recorded_id,
                               absl::Duration grace);
  void RemovePodCgroups(const std::string& uuid);
  // The capsule's log directories (under any name it had) and local volume
  // directories (after its sandboxes are gone).
  void RemovePodFiles(const capsule::Capsule& c);
  // The log directories of capsule `uuid`: those the index knows and, with
  // `list_root` (a sandbox this agent may not have made), every
  // <log_root>/*_<uuid>.
  void RemovePodLogs(const std::string& uuid, bool list_root);
  // Writes and mirrors into the registry.
  absl::Status Write(const std::vector<db::RowPatch>& patches);
  // Write, and finish the action event `event` (if any) in the same
  // transaction.
  absl::Status WriteAndFinish(const std::vector<db::RowPatch>& patches,
                              std::optional<int64_t> event, bool success,
                              std::string_view message);
  // A create's cancellation flag; RequestCancel sets it and wakes its waits.
  struct OpToken {
    std::atomic<bool> cancelled{false};
    Waker waker;
  };
  std::shared_ptr<OpToken> Register(const std::string& uuid);
  void Unregister(const std::string& uuid);
  // Waits `d` unless the agent stops or `token` is cancelled (false then).
  bool Wait(absl::Duration d, OpToken* token);

  // Calls `call` until it succeeds, fails for good, the retry budget is
  // spent or the agent stops; retries UNAVAILABLE, DEADLINE_EXCEEDED and
  // ABORTED with capped backoff.
  template <typename T, typename F>
  absl::StatusOr<T> RetryDb(F&& call) {
    Backoff backoff(options_.db_retry,
                    static_cast<uint64_t>(absl::ToUnixNanos(clock_.Now())));
    const absl::Time give_up = clock_.Now() + options_.db_retry_budget;
    for (;;) {
      absl::StatusOr<T> r = call();
      if (r.ok() || !IsTransient(r.status())) return r;
      if (stopping_.load() || clock_.Now() >= give_up) return r;
      clock_.WaitFor(backoff.Next(), stop_waker_);
    }
  }
  absl::Status RetryDbStatus(const std::function<absl::Status()>& call);

  // Calls `call` up to `attempts` times while it fails transiently, waiting
  // `policy`'s backoff in between (not past a stop).
  template <typename T, typename F>
  absl::StatusOr<T> RetryDbWith(const BackoffPolicy& policy, int attempts,
                                F&& call) {
    Backoff backoff(policy,
                    static_cast<uint64_t>(absl::ToUnixNanos(clock_.Now())));
    for (int i = 1;; ++i) {
      absl::StatusOr<T> r = call();
      if (r.ok() || !IsTransient(r.status())) return r;
      if (stopping_.load() || i >= attempts) return r;
      clock_.WaitFor(backoff.Next(), stop_waker_);
    }
  }
  absl::Status RetryDbStatusWith(const BackoffPolicy& policy, int attempts,
                                 const std::function<absl::Status()>& call);
  static bool IsTransient(const absl::Status& s);

  db::CapsuleStore& store_;
  cri::CriClient& cri_;
  Clock& clock_;
  CapsuleRegistry& registry_;
  const OpsOptions options_;
  PortBinder* const ports_;
  ImagePuller puller_;
  PodLogIndex pod_logs_;
  std::atomic<bool> stopping_{false};
  Waker stop_waker_;
  absl::Mutex cancel_mu_;
  std::map<std::string, std::shared_ptr<OpToken>> tokens_
      ABSL_GUARDED_BY(cancel_mu_);
  // Runtime calls beside the create's own thread: container starts, image
  // look-ups, the sandbox's address.
  // Declared last: destroyed first, after its tasks finished.
  std::unique_ptr<KeyedExecutor> helpers_;
};

}  // namespace zun::agent
