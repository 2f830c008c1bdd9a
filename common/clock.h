// File: clock.h
// Time for everything in zun-agent goes through a `Clock`, injected through
// constructors: production code uses `RealClock`, tests use `SimulatedClock`
// and advance it instead of sleeping. Modelled on absl::Clock (LTS 20260526),
// which Debian 12's abseil lacks.
//
// Waiting: a thread that must wait for "time passes or something happens"
// owns a `Waker`, and calls `clock.WaitUntil(deadline, waker)`. Another thread
// ends the wait early with `waker.Notify()`. A simulated clock also wakes every
// waiter whenever it is advanced, so waits against simulated time need no real
// sleeping.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace zun {

// A wake-up flag for one waiting thread (Notify), or for all of them for good
// (Latch). Thread-safe: Notify/Latch may be called from any thread; several
// threads may wait on a latched waker, only one on a notified one.
class Waker {
 public:
  Waker() = default;
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;

  // Ends the current (or the next) wait on this waker.
  void Notify();
  // Ends every wait on this waker, now and from now on (shutdown,
  // cancellation): any number of threads may be waiting.
  void Latch();
  bool latched();

 private:
  friend class RealClock;
  friend class SimulatedClock;
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;  // guarded by mu_
  bool latched_ = false;   // guarded by mu_
};

class Clock {
 public:
  virtual ~Clock() = default;

  // Current time. Thread-safe.
  virtual absl::Time Now() = 0;

  // Blocks until Now() >= deadline or `waker` is notified. Returns true if it
  // returned because of a notification (and consumes it), false on deadline.
  // Thread-safe; one waiter per waker.
  virtual bool WaitUntil(absl::Time deadline, Waker& waker) = 0;

  // Convenience: waits `d` unless `waker` is notified first.
  bool WaitFor(absl::Duration d, Waker& waker) {
    return WaitUntil(Now() + d, waker);
  }
  // Uninterruptible sleep (tests of code that sleeps use SimulatedClock).
  void SleepFor(absl::Duration d) {
    Waker w;
    WaitFor(d, w);
  }
};

// Wall-clock time. Thread-safe. `Default()` returns a process-wide instance
// that main() hands down; library code never calls it.
class RealClock final : public Clock {
 public:
  static RealClock& Default();
  absl::Time Now() override;
  bool WaitUntil(absl::Time deadline, Waker& waker) override;
};

// Time that moves only when a test calls AdvanceTime(). Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1767225600));

  absl::Time Now() override;
  bool WaitUntil(absl::Time deadline, Waker& waker) override;

  // Moves time forward by `d` and wakes every waiter so it re-checks its
  // deadline.
  void AdvanceTime(absl::Duration d);
  // Number of threads currently blocked in WaitUntil (for tests that want to
  // advance only once the code under test is waiting).
  int NumWaiters();
  // The earliest deadline a thread is waiting for, if any is waiting.
  std::optional<absl::Time> NextDeadline();

 private:
  absl::Mutex time_mu_;
  absl::Time now_ ABSL_GUARDED_BY(time_mu_);
  // Lock order: waiters_mu_ -> Waker::mu_ -> time_mu_.
  absl::Mutex waiters_mu_;
  std::multiset<std::pair<absl::Time, Waker*>> waiters_
      ABSL_GUARDED_BY(waiters_mu_);
};

}  // namespace zun
