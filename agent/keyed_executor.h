// File: keyed_executor.h
// Runs tasks keyed by capsule uuid: tasks with the same key run one at a
// time, in submission order; tasks with different keys run concurrently on
// up to `max_threads` worker threads, created on demand and retired after
// being idle for a while (so an idle agent holds few threads). The worker
// that idled last is the first woken: a steady trickle after a burst runs
// on a few warm threads, and the burst's others retire.
// Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace zun::agent {

// How long the agent's workers and helpers stay idle before they retire: a
// burst's threads (hundreds) are gone, and their memory back to the kernel,
// soon after it; a busy node reuses them.
inline constexpr absl::Duration kIdleThreadTimeout = absl::Seconds(10);

class KeyedExecutor {
 public:
  using Task = absl::AnyInvocable<void()>;

  // `name` names the worker threads (for operators: top -H, perf).
  explicit KeyedExecutor(int max_threads,
                         absl::Duration idle_timeout = absl::Seconds(30),
                         std::string name = "worker");
  ~KeyedExecutor();  // Shutdown(absl::InfiniteDuration())
  KeyedExecutor(const KeyedExecutor&) = delete;
  KeyedExecutor& operator=(const KeyedExecutor&) = delete;

  // Queues `task` behind the other tasks of `key`. Returns false (and
  // destroys the task) after Shutdown started.
  bool Submit(const std::string& key, Task task);

  // Stops accepting tasks and waits up to `timeout` for queued and running
  // ones. Tasks still queued when it expires are destroyed unrun and
  // `on_timeout` is called (without locks held; e.g. to make running tasks
  // give up); running ones are then waited for. Returns true if every
  // queued task ran.
  bool Shutdown(absl::Duration timeout,
                const std::function<void()>& on_timeout = {});

  // Tasks queued or running (for metrics and tests).
  size_t Pending() const;
  // Tasks accepted since construction (only grows).
  uint64_t Submitted() const;
  // Workers retired after their idle timeout since construction (only
  // grows; the memory they held is free from then on).
  uint64_t Retired() const;
  // Every key with a task queued or running, in one look (a relist asks
  // about every capsule at once).
  std::set<std::string> BusyKeys() const;
  int threads() const;
  // Workers waiting for work (for tests).
  int idle_threads() const;

 private:
  // An idle worker's wake-up call (on that worker's stack).
  struct IdleSlot {
    absl::CondVar cv;
    bool woken = false;  // by Submit, which took it off the stack
  };

  void Worker();

  const int max_threads_;
  const absl::Duration idle_timeout_;
  const std::string name_;
  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::deque<Task>> queues_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mu_);  // keys to run
  std::set<std::string> running_ ABSL_GUARDED_BY(mu_);
  size_t pending_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t submitted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t retired_ ABSL_GUARDED_BY(mu_) = 0;
  int threads_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<IdleSlot*> idle_stack_ ABSL_GUARDED_BY(mu_);  // last idled on top
  std::vector<std::thread> finished_ ABSL_GUARDED_BY(mu_);  // to join
  std::map<std::thread::id, std::thread> workers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::agent
