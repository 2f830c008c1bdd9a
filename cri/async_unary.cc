#include "cri/async_unary.h"

#include "common/thread_util.h"

namespace zun::cri::internal {

AsyncUnaryServer::AsyncUnaryServer(grpc::ServerBuilder& builder,
                                   Offload offload)
    : offload_(std::move(offload)), cq_(builder.AddCompletionQueue()) {}

AsyncUnaryServer::~AsyncUnaryServer() { Stop(); }

void AsyncUnaryServer::Start() {
  for (const auto& start : starters_) start(cq_.get());
  poller_ = std::thread([cq = cq_.get()] {
    SetCurrentThreadName("cri-server");
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
  });
}

void AsyncUnaryServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Calls asked for after the server's Shutdown come back not ok, and the
  // queue gives every pending event back before Next returns false.
  {
    absl::MutexLock l(&queue_.mu);
    queue_.open = false;
    cq_->Shutdown();
  }
  if (poller_.joinable()) {
    poller_.join();
  } else {
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(false);
  }
}

}  // namespace zun::cri::internal
