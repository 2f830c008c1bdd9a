// File: fake_cri_service.h  (internal to cri/)
// The CRI services of fake-cri: RuntimeService and ImageService serving a
// FakeRuntime with gRPC's async API on one polling thread (async_unary.h),
// with faults from a FaultInjector applied before each call. A call that
// cannot block is answered on the polling thread (no hand-off); a call
// that may (faults set for its method, a scripted pull time) and a list
// (thousands of items on a full node) run on a thread of its own
// (BlockingCalls).
//
// Thread-safe: handlers run on any thread; AttachTo and Drain from any.
#pragma once

#include <memory>

#include "cri/fake_runtime.h"
#include "cri/fault_injector.h"

namespace grpc {
class ServerBuilder;
}  // namespace grpc

namespace zun::cri::fake {

// The two services as one server serves them. To stop: the server's
// Shutdown, FakeCriServices::Drain, then Stop (or destruction), before the
// server is destroyed.
class FakeCriServing {
 public:
  virtual ~FakeCriServing() = default;  // Stops.
  // After the server is built and started: starts answering calls.
  virtual void Start() = 0;
  // Drains and joins the polling thread. Idempotent.
  virtual void Stop() = 0;
};

class FakeCriServices {
 public:
  virtual ~FakeCriServices() = default;  // Drains first.
  // Registers the two services with the server `builder` is to build, and
  // returns their serving (this object must outlive it).
  virtual std::unique_ptr<FakeCriServing> AttachTo(
      grpc::ServerBuilder& builder) = 0;
  // Waits for the calls running on threads of their own (after a server's
  // shutdown, so that none still uses the runtime).
  virtual void Drain() = 0;
};

// `runtime` and `faults` must outlive the services.
std::unique_ptr<FakeCriServices> NewFakeCriServices(FakeRuntime& runtime,
                                                    FaultInjector& faults);

}  // namespace zun::cri::fake
