// File: fake_cri_server.h
// Serves a FakeRuntime as CRI runtime.v1 (RuntimeService + ImageService)
// over gRPC, with faults from a FaultInjector applied before each call. The
// same server runs in-process in tests and as `build/bin/fake-cri`.
// Thread-safe: Start/Shutdown from one controlling thread; calls are served
// on gRPC's threads.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
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

 private:
  class Service;
  std::unique_ptr<Service> service_;
  struct ServerHolder;
  std::unique_ptr<ServerHolder> server_;
};

}  // namespace zun::cri::fake
