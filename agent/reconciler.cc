#include "agent/reconciler.h"

#include <chrono>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "capsule/labels.h"
#include "capsule/relist.h"
#include "capsule/status.h"
#include "common/logging.h"
#include "common/thread_util.h"

namespace zun::agent {

namespace cs = ::zun::capsule;

Reconciler::Reconciler(CapsuleOps& ops, KeyedExecutor& executor,
                       CapsuleRegistry& registry, cri::CriClient& cri,
                       db::CapsuleStore& store, Clock& clock,
                       ReconcilerOptions options)
    : ops_(ops),
      executor_(executor),
      registry_(registry),
      cri_(cri),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      loop_(clock, "reconciler") {}

Reconciler::~Reconciler() { Stop(); }

absl::Status Reconciler::ResyncFromDb() {
  bool loaded;
  {
    absl::MutexLock l(&mu_);
    loaded = loaded_;
  }
  std::map<std::string, std::string> versions;
  std::set<std::string> in_db;
  if (!loaded) {
    // First load: every capsule of this host in one go.
    absl::StatusOr<std::vector<capsule::Capsule>> rows =
        store_.ListCapsules(options_.host);
    if (!rows.ok()) return rows.status();
    const std::set<std::string> busy = executor_.BusyKeys();
    for (const capsule::Capsule& c : *rows) {
      in_db.insert(c.uuid());
      if (busy.count(c.uuid())) continue;
      registry_.Put(c);
      versions[c.uuid()] = db::VersionOf(c.record);
    }
  } else {
    // Later: only the capsules whose row changed since we last read it (the
    // API marking deletes, rows appearing or going).
    absl::StatusOr<std::map<std::string, std::string>> now =
        store_.CapsuleVersions(options_.host);
    if (!now.ok()) return now.status();
    std::map<std::string, std::string> known;
    {
      absl::MutexLock l(&mu_);
      known = versions_;
    }
    const std::set<std::string> busy = executor_.BusyKeys();
    std::vector<std::string> changed;
    for (const auto& [uuid, version] : *now) {
      in_db.insert(uuid);
      auto it = known.find(uuid);
      if (it != known.end() && it->second == version &&
          registry_.Contains(uuid)) {
        versions[uuid] = version;
        continue;
      }
      if (busy.count(uuid)) continue;  // read again next time
      changed.push_back(uuid);
    }
    // After a burst that is every capsule it touched: read in batches, not
    // one by one.
    absl::StatusOr<std::vector<capsule::Capsule>> rows =
        store_.LoadCapsules(changed);
    if (!rows.ok()) return rows.status();
    for (const capsule::Capsule& c : *rows) {
      registry_.Put(c);
      versions[c.uuid()] = db::VersionOf(c.record);
    }
  }
  const std::set<std::string> busy = executor_.BusyKeys();
  for (const std::string& uuid : registry_.Uuids()) {
    if (!in_db.count(uuid) && !busy.count(uuid)) registry_.Remove(uuid);
  }
  absl::MutexLock l(&mu_);
  versions_ = std::move(versions);
  loaded_ = true;
  last_resync_ = clock_.Now();
  return absl::OkStatus();
}

absl::Status Reconciler::Recover(Waker& stop) {
  Backoff backoff(BackoffPolicy{absl::Milliseconds(200), absl::Seconds(10)});
  for (;;) {
    absl::Status s = ResyncFromDb();
    if (s.ok()) break;
    const absl::Duration delay = backoff.Next();
    ZUN_LOG(kAgent, warn,
            "recovery: cannot load this host's capsules ({}); retrying in {}",
            s.message(), absl::FormatDuration(delay));
    if (clock_.WaitFor(delay, stop)) return absl::CancelledError("stopped");
  }
  ZUN_LOG(kAgent, info, "recovery: {} capsules on host '{}'", registry_.size(),
          options_.host);
  // Every capsule gets a full sync once (restart timers and backoff are
  // in-memory state that a restart of the agent lost).
  for (const std::string& uuid : registry_.Uuids()) {
    std::optional<capsule::Capsule> c = registry_.Get(uuid);
    if (c && !c->record.task_state &&
        c->record.status.value_or("") != cs::kStatusCreating) {
      SubmitSync(uuid);
    }
  }
  RelistOnce();
  const absl::Time deadline = clock_.Now() + options_.recovery_wait;
  Waker w;
  while (clock_.Now() < deadline) {
    {
      absl::MutexLock l(&mu_);
      if (sync_pending_.empty()) break;
    }
    clock_.WaitFor(absl::Milliseconds(10), w);
  }
  return absl::OkStatus();
}

void Reconciler::Start() {
  loop_.Start();
  // The relist is background work: on a busy node it waits for the CPU
  // behind capsule operations (and never delays them by minutes: nice 10
  // still gets its share).
  loop_.Post([] { LowerCurrentThreadPriority(10); });
  loop_.RunAfter(options_.interval, [this] { Tick(); });
}

void Reconciler::Stop() { loop_.Stop(); }

void Reconciler::Tick() {
  RelistOnce();
  loop_.RunAfter(options_.interval, [this] { Tick(); });
}

ReconcilerStats Reconciler::Stats() {
  absl::MutexLock l(&mu_);
  return stats_;
}

void Reconciler::Poke(const std::string& uuid) { SubmitSync(uuid); }

void Reconciler::SubmitSync(const std::string& uuid) {
  {
    absl::MutexLock l(&mu_);
    if (!sync_pending_.insert(uuid).second) return;
    ++stats_.syncs;
  }
  const bool queued = executor_.Submit(uuid, [this, uuid] {
    {
      absl::MutexLock l(&mu_);
      sync_pending_.erase(uuid);
    }
    absl::StatusOr<absl::Time> next = ops_.Sync(uuid);
    if (!next.ok()) {
      ZUN_CLOG(kAgent, warn, uuid, "", "sync failed (retried next relist): {}",
               next.status().message());
    } else if (*next != absl::InfiniteFuture()) {
      ScheduleSync(uuid, *next);
    }
  });
  if (!queued) {
    absl::MutexLock l(&mu_);
    sync_pending_.erase(uuid);
  }
}

void Reconciler::ScheduleSync(const std::string& uuid, absl::Time at) {
  {
    absl::MutexLock l(&mu_);
    auto it = timers_.find(uuid);
    if (it != timers_.end() && it->second <= at) return;
    timers_[uuid] = at;
  }
  loop_.RunAt(at, [this, uuid, at] {
    {
      absl::MutexLock l(&mu_);
      auto it = timers_.find(uuid);
      if (it == timers_.end() || it->second != at) return;  // superseded
      timers_.erase(it);
    }
    SubmitSync(uuid);
  });
}

void Reconciler::RelistOnce() {
  const auto started = std::chrono::steady_clock::now();
  // Triage reads ids, states, attempts and the two uuid labels: thousands
  // of items, as views into the runtime's answers (cri::PodListing).
  absl::StatusOr<cri::PodListing> listing =
      cri_.ListPods(cs::RelistSandboxFilter(options_.host),
                    cs::RelistContainerFilter(options_.host));
  if (!listing.ok()) {
    absl::MutexLock l(&mu_);
    if (stats_.relist_errors++ % 30 == 0) {
      ZUN_LOG(kAgent, warn, "relist failed (statuses left as they are): {}",
              listing.status().message());
    }
    return;
  }
  const cs::RuntimeView rt = cs::BuildRuntimeView(*std::move(listing));

  bool resync_due;
  {
    absl::MutexLock l(&mu_);
    resync_due = clock_.Now() - last_resync_ >= options_.db_resync_interval;
  }
  if (resync_due) {
    if (absl::Status s = ResyncFromDb(); !s.ok()) {
      ZUN_LOG(kAgent, warn, "database resync failed: {}", s.message());
    }
  }

  std::vector<std::string> to_sync, to_resume, to_delete;
  std::map<std::string, std::string> unowned;  // capsule uuid -> sandbox id
  std::map<std::string, absl::Time> timers;
  {
    absl::MutexLock l(&mu_);
    timers = timers_;
  }
  // Sandboxes no capsule row claims: every one, less those the rows name
  // (views of rt's keys, which outlive this function's use of them).
  absl::flat_hash_set<std::string_view> unclaimed;
  unclaimed.reserve(rt.sandbox.size());
  for (const auto& [uuid, sb] : rt.sandbox) unclaimed.insert(uuid);
  const std::set<std::string> busy = executor_.BusyKeys();
  registry_.ForEach([&](const capsule::Capsule& c) {
    unclaimed.erase(c.uuid());
    if (busy.count(c.uuid())) return;
    switch (cs::Triage(c, rt, timers.count(c.uuid()) > 0)) {
      case cs::RelistAction::kNone:
        break;
      case cs::RelistAction::kSync:
        to_sync.push_back(c.uuid());
        break;
      case cs::RelistAction::kResume:
        to_resume.push_back(c.uuid());
        break;
      case cs::RelistAction::kDelete:
        to_delete.push_back(c.uuid());
        break;
      case cs::RelistAction::kRemoveSandbox:
        unowned[c.uuid()] = std::string(rt.sandbox.at(c.uuid())->id);
        break;
    }
  });
  for (std::string_view uuid : unclaimed) {
    unowned[std::string(uuid)] = std::string(rt.sandbox.find(uuid)->second->id);
  }
  for (const std::string& uuid : to_sync) SubmitSync(uuid);
  for (const std::string& uuid : to_resume) {
    ZUN_CLOG(kAgent, info, uuid, "", "resuming an interrupted create");
    executor_.Submit(uuid, [this, uuid] {
      CreateHints hints;
      hints.resume = true;
      ops_.Create(uuid, db::ActionContext{"", "", ""}, hints, [] {});
    });
  }
  for (const std::string& uuid : to_delete) {
    ZUN_CLOG(kAgent, info, uuid, "", "finishing a pending delete");
    executor_.Submit(uuid, [this, uuid] {
      ops_.Delete(uuid, false, db::ActionContext{}).IgnoreError();
    });
  }
  CollectOrphans(unowned);
  const absl::Duration took =
      absl::FromChrono(std::chrono::steady_clock::now() - started);
  {
    absl::MutexLock l(&mu_);
    ++stats_.relists;
    stats_.drift += to_sync.size();
    stats_.resumed += to_resume.size() + to_delete.size();
    stats_.last_relist = took;
  }
  if (options_.on_relist) options_.on_relist(took);
}

void Reconciler::CollectOrphans(
    const std::map<std::string, std::string>& unowned) {
  const absl::Time now = clock_.Now();
  std::vector<std::string> due;
  {
    absl::MutexLock l(&mu_);
    if (!loaded_) return;  // without the rows, everything looks orphaned
    for (auto it = orphan_seen_.begin(); it != orphan_seen_.end();) {
      it = unowned.count(it->first) ? std::next(it) : orphan_seen_.erase(it);
    }
    for (const auto& [uuid, sb] : unowned) {
      auto [it, fresh] = orphan_seen_.emplace(uuid, now);
      if (!fresh && now - it->second >= options_.orphan_grace_period &&
          orphan_pending_.insert(uuid).second) {
        due.push_back(uuid);
      }
    }
  }
  for (const std::string& uuid : due) {
    executor_.Submit(uuid, [this, uuid] {
      absl::StatusOr<bool> removed = ops_.RemoveOrphan(uuid);
      absl::MutexLock l(&mu_);
      orphan_pending_.erase(uuid);
      if (removed.ok() && *removed) {
        ++stats_.orphans_removed;
        orphan_seen_.erase(uuid);
      }
    });
  }
}

}  // namespace zun::agent
