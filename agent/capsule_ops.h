// File: capsule_ops.h
// The capsule operations: create, delete and show, each run to completion on
// the calling thread (a KeyedExecutor worker, so operations on one capsule
// never overlap). Every step is idempotent, so an operation may be repeated
// after a crash or a redelivered message: create adopts or replaces what an
// earlier attempt left, delete succeeds when things are already gone.
//
// Create: claim the capsule for this host (host, task_state), record the
// action, validate and map (nothing touches the runtime if that fails), run
// the sandbox, make images present, run init containers one at a time to
// completion, then start the regular containers, and write the capsule and
// its children Running with their CRI ids and the pod address. Any failure
// removes what was created and writes Error with a reason a user can act on.
//
// Thread-safe: different capsules may be operated on concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/image_puller.h"
#include "capsule/mapper.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "cri/cri_client.h"
#include "db/capsule_store.h"

namespace zun::agent {

struct OpsOptions {
  capsule::MapperOptions mapper;
  std::string network_name = "default";  // key of `addresses`
  absl::Duration stop_grace = absl::Seconds(10);
  absl::Duration init_container_timeout = absl::Hours(1);
  std::string cgroup_fs_root = "/sys/fs/cgroup";
  // Retries of database calls while the database is unreachable.
  BackoffPolicy db_retry{absl::Milliseconds(100), absl::Seconds(5), 2.0, 0.2};
  absl::Duration db_retry_budget = absl::Minutes(2);
};

// What the create message says beyond the capsule uuid.
struct CreateHints {
  std::string network;  // requested_networks[0].network, if any
};

class CapsuleOps {
 public:
  CapsuleOps(db::CapsuleStore& store, cri::CriClient& cri, Clock& clock,
             OpsOptions options);

  // Creates capsule `uuid`. `on_claimed` runs once the claim is durable (or
  // is known to be pointless: capsule gone or owned by another host); it is
  // not called when the database stayed unreachable, so the request can be
  // redelivered. Failures are recorded on the capsule, not returned.
  void Create(const std::string& uuid, const db::ActionContext& ctx,
              const CreateHints& hints, absl::AnyInvocable<void()> on_claimed);

  // Deletes capsule `uuid`: stops its containers (grace period unless
  // `force`), stops and removes its sandboxes, removes its pod cgroups and
  // deletes the rows. OK when it is already gone; on failure the capsule is
  // written Error with the reason, and the error is returned.
  absl::Status Delete(const std::string& uuid, bool force,
                      const db::ActionContext& ctx);

  // The capsule with statuses refreshed from the runtime. NOT_FOUND if the
  // capsule does not exist.
  absl::StatusOr<capsule::Capsule> Show(const std::string& uuid);

  // Makes pending database retries give up (shutdown).
  void Stop();

 private:
  struct CreateRun;
  absl::Status RunCreate(CreateRun& run);
  void FailCreate(CreateRun& run, const absl::Status& why);
  absl::Status RunInitContainer(CreateRun& run,
                                const capsule::ContainerRecord& c);
  absl::StatusOr<std::string> StartContainer(CreateRun& run,
                                             const capsule::ContainerRecord& c);
  absl::Status RemoveSandboxes(const std::string& uuid,
                               const std::optional<std::string>& recorded_id,
                               absl::Duration grace);
  void RemovePodCgroups(const std::string& uuid);
  absl::Status WriteWithRetry(const std::vector<db::RowPatch>& patches);
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
  static bool IsTransient(const absl::Status& s);
  absl::Status RetryDbStatus(const std::function<absl::Status()>& call);

  db::CapsuleStore& store_;
  cri::CriClient& cri_;
  Clock& clock_;
  const OpsOptions options_;
  ImagePuller puller_;
  std::atomic<bool> stopping_{false};
  Waker stop_waker_;
};

}  // namespace zun::agent
