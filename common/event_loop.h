// File: event_loop.h
// A single-threaded loop that runs posted closures and timers in order, the
// way Envoy's Dispatcher and Mesos' actors do: state owned by a loop is only
// touched on its thread, other threads Post() work to it. Timers use the
// injected Clock, so a SimulatedClock drives them in tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace zun {

// Thread-safe: Post/RunAt/RunAfter/Cancel may be called from any thread.
// Closures run on the loop thread, one at a time, never concurrently.
class EventLoop {
 public:
  using Task = absl::AnyInvocable<void()>;
  using TimerId = uint64_t;

  EventLoop(Clock& clock, std::string name);
  ~EventLoop();  // Stops the loop if running.
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the loop thread. Call once.
  void Start();
  // Stops the loop: the task running now finishes, queued tasks and timers
  // are dropped (destroyed on the caller's thread). Idempotent.
  void Stop();

  // Queues `task` to run on the loop thread after the tasks already queued.
  void Post(Task task);
  // Runs `task` on the loop thread at (or soon after) `when`.
  TimerId RunAt(absl::Time when, Task task);
  TimerId RunAfter(absl::Duration d, Task task);
  // Cancels a timer that has not started yet. Returns false if it already
  // ran, is running, or never existed.
  bool Cancel(TimerId id);

  // True on the loop thread.
  bool IsCurrentThread() const;
  Clock& clock() { return clock_; }
  const std::string& name() const { return name_; }

 private:
  void Run();

  Clock& clock_;
  const std::string name_;
  Waker waker_;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Task> posted_ ABSL_GUARDED_BY(mu_);
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Ordered by (time, id): equal times run in the order they were added.
  std::map<std::pair<absl::Time, TimerId>, Task> timers_ ABSL_GUARDED_BY(mu_);
  std::map<TimerId, absl::Time> timer_index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun
