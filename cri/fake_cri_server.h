// File: fake_cri_server.h
// Serves a FakeRuntime as CRI runtime.v1 (RuntimeService + ImageService)
// over gRPC, with faults from a FaultInjector applied before each call. The
// same server runs in-process in tests and as `build/bin/fake-cri`.
// Thread-safe: Start/Shutdown from one controlling thread; calls are served
// on gRPC's threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cri/fake_cri_service.h"
#include "cri/fake_runtime.h"
#include "cri/fault_injector.h"

namespace zun::cri::fake {

class FakeCriServer {
 public:
  FakeCriServer(FakeRuntime& runtime, FaultInjector& faults);
  ~FakeCriServer();
  FakeCriServer(const FakeCriServer&) = delete;
  FakeCriServer& operator=(const FakeCriServer&) = delete;

  // Listens on `endpoint` ("unix:///path"); a stale socket file is replaced.
  absl::Status Start(const std::string& endpoint);
  // Stops serving and removes the socket. Idempotent.
  void Shutdown();
  // A simulated runtime restart in the background: stop serving, forget
  // every pod unless `keep_state`, wait `downtime`, serve again on the same
  // endpoint. Ignored while a restart is in progress.
  void RestartAsync(bool keep_state, absl::Duration downtime);

 private:
  class Control;
  struct ServerHolder;

  FakeRuntime& runtime_;
  std::unique_ptr<FakeCriServices> service_;
  std::unique_ptr<Control> control_;
  std::atomic<int64_t> restarts_{0};
  absl::Mutex mu_;
  std::unique_ptr<ServerHolder> server_ ABSL_GUARDED_BY(mu_);
  std::string endpoint_ ABSL_GUARDED_BY(mu_);
  bool restarting_ ABSL_GUARDED_BY(mu_) = false;
  bool destroying_ ABSL_GUARDED_BY(mu_) = false;
  std::thread restart_thread_;
};

}  // namespace zun::cri::fake
