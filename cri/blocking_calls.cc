#include "cri/blocking_calls.h"

#include <thread>
#include <utility>

namespace zun::cri::fake {

BlockingCalls::BlockingCalls(absl::Duration keep_idle)
    : keep_idle_(keep_idle) {}

BlockingCalls::~BlockingCalls() {
  absl::MutexLock l(&state_->mu);
  state_->stopping = true;  // idle threads see it and end
}

void BlockingCalls::Run(absl::AnyInvocable<void()> call) {
  bool spawn = false;
  {
    absl::MutexLock l(&state_->mu);
    ++state_->running;
    state_->queue.push_back(std::move(call));
    // Every queued call needs a thread of its own now.
    if (static_cast<int>(state_->queue.size()) > state_->idle) {
      ++state_->threads;
      spawn = true;
    }
  }
  if (spawn) std::thread(&BlockingCalls::Loop, state_, keep_idle_).detach();
}

void BlockingCalls::Loop(std::shared_ptr<State> state,
                         absl::Duration keep_idle) {
  State& s = *state;
  absl::MutexLock l(&s.mu);
  auto ready = [&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
    return !s.queue.empty() || s.stopping;
  };
  while (true) {
    if (s.queue.empty()) {
      ++s.idle;
      const bool woken =
          s.mu.AwaitWithTimeout(absl::Condition(&ready), keep_idle);
      --s.idle;
      if (s.queue.empty() && (!woken || s.stopping)) break;
    }
    absl::AnyInvocable<void()> call = std::move(s.queue.front());
    s.queue.pop_front();
    s.mu.Unlock();
    call();
    call = nullptr;
    s.mu.Lock();
    --s.running;
  }
  --s.threads;
}

void BlockingCalls::Drain() {
  State& s = *state_;
  absl::MutexLock l(&s.mu);
  auto idle = [&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
    return s.running == 0;
  };
  s.mu.Await(absl::Condition(&idle));
}

int BlockingCalls::threads() const {
  absl::MutexLock l(&state_->mu);
  return state_->threads;
}

}  // namespace zun::cri::fake
