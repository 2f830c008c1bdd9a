// File: fake_cri_service.h  (internal to cri/)
// The CRI services of fake-cri: RuntimeService and ImageService serving a
// FakeRuntime on gRPC's callback API, with faults from a FaultInjector
// applied before each call. A call that cannot block is served on the
// thread that read it (no hand-off); a call that may (faults set, scripted
// sandbox or pull time) runs on a thread of its own (BlockingCalls).
//
// Thread-safe: gRPC calls the services from any thread; Drain from any.
#pragma once

#include <memory>

#include "cri/fake_runtime.h"
#include "cri/fault_injector.h"

namespace grpc {
class Service;
}  // namespace grpc

namespace zun::cri::fake {

class FakeCriServices {
 public:
  virtual ~FakeCriServices() = default;  // Drains first.
  // The two services to register with a server (owned by this object,
  // which must outlive every server they are registered with).
  virtual grpc::Service* runtime_service() = 0;
  virtual grpc::Service* image_service() = 0;
  // Waits for the calls running on threads of their own (after a server's
  // shutdown, so that none still uses the runtime).
  virtual void Drain() = 0;
};

// `runtime` and `faults` must outlive the services.
std::unique_ptr<FakeCriServices> NewFakeCriServices(FakeRuntime& runtime,
                                                    FaultInjector& faults);

}  // namespace zun::cri::fake
