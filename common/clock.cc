#include "common/clock.h"

#include <chrono>

namespace zun {

void Waker::Notify() {
  std::lock_guard<std::mutex> l(mu_);
  notified_ = true;
  cv_.notify_all();
}

void Waker::Latch() {
  std::lock_guard<std::mutex> l(mu_);
  latched_ = true;
  cv_.notify_all();
}

bool Waker::latched() {
  std::lock_guard<std::mutex> l(mu_);
  return latched_;
}

RealClock& RealClock::Default() {
  static RealClock* clock = new RealClock();
  return *clock;
}

absl::Time RealClock::Now() { return absl::Now(); }

bool RealClock::WaitUntil(absl::Time deadline, Waker& waker) {
  std::unique_lock<std::mutex> l(waker.mu_);
  if (waker.latched_) return true;
  while (!waker.notified_ && !waker.latched_) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    // Re-evaluated in a loop, so a wall-clock step only shortens or extends
    // one slice of the wait.
    waker.cv_.wait_for(
        l, absl::ToChronoNanoseconds(std::min(left, absl::Seconds(1))));
  }
  waker.notified_ = false;
  return true;
}

SimulatedClock::SimulatedClock(absl::Time start) : now_(start) {}

absl::Time SimulatedClock::Now() {
  absl::MutexLock l(&time_mu_);
  return now_;
}

bool SimulatedClock::WaitUntil(absl::Time deadline, Waker& waker) {
  const std::pair<absl::Time, Waker*> entry(deadline, &waker);
  {
    absl::MutexLock l(&waiters_mu_);
    waiters_.insert(entry);
  }
  bool notified = false;
  {
    std::unique_lock<std::mutex> l(waker.mu_);
    waker.cv_.wait(l, [&] {
      return waker.notified_ || waker.latched_ || Now() >= deadline;
    });
    notified = waker.notified_ || waker.latched_;
    waker.notified_ = false;
  }
  absl::MutexLock l(&waiters_mu_);
  waiters_.erase(waiters_.find(entry));
  return notified;
}

void SimulatedClock::AdvanceTime(absl::Duration d) {
  {
    absl::MutexLock l(&time_mu_);
    now_ += d;
  }
  absl::MutexLock l(&waiters_mu_);
  for (const auto& [deadline, w] : waiters_) {
    std::lock_guard<std::mutex> wl(w->mu_);
    w->cv_.notify_all();
  }
}

std::optional<absl::Time> SimulatedClock::NextDeadline() {
  absl::MutexLock l(&waiters_mu_);
  if (waiters_.empty()) return std::nullopt;
  return waiters_.begin()->first;
}

int SimulatedClock::NumWaiters() {
  absl::MutexLock l(&waiters_mu_);
  return static_cast<int>(waiters_.size());
}

}  // namespace zun
