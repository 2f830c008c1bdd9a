// File: blocking_calls.h  (internal to cri/)
// Runs the fake CRI server's calls that may block (scripted latencies,
// hangs, slow sandboxes and pulls) each on a thread of its own, so that a
// slow call never holds one of gRPC's few callback threads, and waits for
// them at shutdown.
//
// Thread-safe: Run and Drain may be called from any thread.
#pragma once

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace zun::cri::fake {

class BlockingCalls {
 public:
  // Runs `call` on a new thread, counted until it returns.
  void Run(absl::AnyInvocable<void()> call);
  // Waits until no call started by Run is running.
  void Drain();

 private:
  // Shared with the threads, so that it outlives the last one's unlock
  // even when Drain() returned and this object is gone.
  struct State {
    absl::Mutex mu;
    int running ABSL_GUARDED_BY(mu) = 0;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace zun::cri::fake
