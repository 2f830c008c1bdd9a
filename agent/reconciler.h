// File: reconciler.h
// Keeps what the database says about this host's capsules true to what the
// runtime runs, the way kubelet's relist does:
//
//  - every [compute] reconcile_interval it lists the sandboxes and
//    containers carrying this host's ownership labels (two CRI calls) and
//    compares them with the registry (the rows as last written). Capsules
//    whose runtime state no longer matches their rows get a Sync task (on
//    the keyed executor, so it never overlaps another operation on the same
//    capsule); a steady state costs no database access at all;
//  - restarts that wait for their backoff are scheduled as timers;
//  - capsules stuck in a transitional state (a create or delete that was
//    interrupted, or whose message was lost) are resumed or finished;
//  - sandboxes with our labels but no capsule of this host are removed once
//    they are older than [compute] orphan_grace_period (and the database
//    confirms they are not ours);
//  - every db_resync_interval the capsule rows of this host are re-read, to
//    pick up what the API changed (a delete whose message was lost, rows the
//    API removed).
//
// Recover() is the startup half: load the rows, relist, dispatch, and wait
// (bounded) for the syncs to finish before the agent starts serving.
// Thread-safe: Start/Stop/Recover from the controlling thread; Poke and
// Schedule from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/capsule_ops.h"
#include "agent/capsule_registry.h"
#include "agent/keyed_executor.h"
#include "common/clock.h"
#include "common/event_loop.h"
#include "cri/cri_client.h"
#include "db/capsule_store.h"
#include "observe/reconciler_stats.h"

namespace zun::agent {

struct ReconcilerOptions {
  std::string host;
  absl::Duration interval = absl::Seconds(2);
  absl::Duration db_resync_interval = absl::Seconds(30);
  absl::Duration orphan_grace_period = absl::Seconds(60);
  absl::Duration recovery_wait = absl::Seconds(5);
  // Called after every relist with its duration (metrics). Thread-safe.
  std::function<void(absl::Duration)> on_relist;
};

using observe::ReconcilerStats;

class Reconciler {
 public:
  Reconciler(CapsuleOps& ops, KeyedExecutor& executor,
             CapsuleRegistry& registry, cri::CriClient& cri,
             db::CapsuleStore& store, Clock& clock, ReconcilerOptions options);
  ~Reconciler();

  // Loads this host's capsules (retrying while the database is down, until
  // `stop` is notified: CANCELLED), relists the runtime, dispatches what is
  // out of line, and waits up to recovery_wait for those syncs.
  absl::Status Recover(Waker& stop);
  // Starts the periodic relist on its own thread, at a lower CPU priority
  // (nice +10) than capsule operations.
  void Start();
  void Stop();

  // Syncs `uuid` soon (e.g. after an operation).
  void Poke(const std::string& uuid);
  ReconcilerStats Stats();
  // One relist pass, on the calling thread (tests; the loop uses it too).
  void RelistOnce();

 private:
  void Tick();
  void SubmitSync(const std::string& uuid);
  void ScheduleSync(const std::string& uuid, absl::Time at);
  absl::Status ResyncFromDb();
  void CollectOrphans(
      const std::map<std::string, std::string>& sandbox_by_capsule);

  CapsuleOps& ops_;
  KeyedExecutor& executor_;
  CapsuleRegistry& registry_;
  cri::CriClient& cri_;
  db::CapsuleStore& store_;
  Clock& clock_;
  const ReconcilerOptions options_;
  EventLoop loop_;

  absl::Mutex mu_;
  std::set<std::string> sync_pending_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> timers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> orphan_seen_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> orphan_pending_ ABSL_GUARDED_BY(mu_);
  absl::Time last_resync_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Capsule row versions as last read (db::VersionOf), for resyncs.
  std::map<std::string, std::string> versions_ ABSL_GUARDED_BY(mu_);
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  ReconcilerStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::agent
