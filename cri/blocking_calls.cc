#include "cri/blocking_calls.h"

#include <thread>
#include <utility>

namespace zun::cri::fake {

void BlockingCalls::Run(absl::AnyInvocable<void()> call) {
  {
    absl::MutexLock l(&state_->mu);
    ++state_->running;
  }
  std::thread([state = state_, call = std::move(call)]() mutable {
    call();
    call = nullptr;
    absl::MutexLock l(&state->mu);
    --state->running;
  }).detach();
}

void BlockingCalls::Drain() {
  State& s = *state_;
  absl::MutexLock l(&s.mu);
  auto idle = [&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
    return s.running == 0;
  };
  s.mu.Await(absl::Condition(&idle));
}

}  // namespace zun::cri::fake
