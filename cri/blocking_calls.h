// File: blocking_calls.h  (internal to cri/)
// Runs the fake CRI server's calls that may block (scripted latencies,
// hangs, slow sandboxes and pulls) each on a thread of its own, so that a
// slow call never holds the server's polling thread, and waits for
// them at shutdown. Threads are kept for a while after their call and
// reused: a benchmark's thousands of slow calls do not each create and
// destroy a thread (that was a third of fake-cri's CPU). Every call still
// starts at once: a call finding no idle thread gets a new one.
//
// Thread-safe: Run and Drain may be called from any thread.
#pragma once

#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace zun::cri::fake {

class BlockingCalls {
 public:
  // `keep_idle`: how long a thread waits for another call before it ends.
  explicit BlockingCalls(absl::Duration keep_idle = absl::Seconds(10));
  // Ends the idle threads (calls still running finish on theirs).
  ~BlockingCalls();

  // Runs `call` on a thread of its own (an idle one, or a new one), counted
  // until it returns.
  void Run(absl::AnyInvocable<void()> call);
  // Waits until no call started by Run is running.
  void Drain();

  // Threads alive now (running a call or idle), for tests.
  int threads() const;

 private:
  // Shared with the threads, so that it outlives the last one's unlock
  // even when Drain() returned and this object is gone.
  struct State {
    mutable absl::Mutex mu;
    int running ABSL_GUARDED_BY(mu) = 0;  // calls not yet returned
    int idle ABSL_GUARDED_BY(mu) = 0;     // threads waiting for a call
    int threads ABSL_GUARDED_BY(mu) = 0;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    std::deque<absl::AnyInvocable<void()>> queue ABSL_GUARDED_BY(mu);
  };
  static void Loop(std::shared_ptr<State> state, absl::Duration keep_idle);

  const absl::Duration keep_idle_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace zun::cri::fake
