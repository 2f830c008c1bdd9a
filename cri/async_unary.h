// File: async_unary.h  (internal to cri/)
// Serves the unary methods of gRPC async services on one thread that polls
// one completion queue: a call arrives, its handler runs on that thread
// (or on a thread of the caller's choosing, when it may block), and its
// answer is written back, with no other hand-off.
//
// Why not gRPC's callback API: in the gRPC of Debian 12 (1.51) a callback
// server polls with at least two "nexting" threads that hand every event
// to each other. Measured on a zero-latency call, 2 cores: callback server
// 90-110 us CPU and 7.5 context switches per call; this one 35-50 us and
// 2.7 switches.
//
// Use: construct on the ServerBuilder (it adds the queue), Add every method,
// build the server, Start(); to stop: the server's Shutdown(), wait for
// every offloaded call to finish, then Stop().
// Thread-compatible for Add/Start/Stop (one controlling thread); handlers
// run on the polling thread or on the offload's threads.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"

namespace zun::cri::internal {

class AsyncUnaryServer {
 public:
  // Runs a call that may block somewhere else than the polling thread.
  using Offload = std::function<void(absl::AnyInvocable<void()>)>;

  AsyncUnaryServer(grpc::ServerBuilder& builder, Offload offload);
  ~AsyncUnaryServer();  // Stop()s
  AsyncUnaryServer(const AsyncUnaryServer&) = delete;
  AsyncUnaryServer& operator=(const AsyncUnaryServer&) = delete;

  // A generated AsyncService's Request<Method> member.
  template <class Base, class Req, class Resp>
  using RequestFn = void (Base::*)(grpc::ServerContext*, Req*,
                                   grpc::ServerAsyncResponseWriter<Resp>*,
                                   grpc::CompletionQueue*,
                                   grpc::ServerCompletionQueue*, void*);

  // Serves `request` of `service` (registered with the builder, outliving
  // this object): `blocks(req)` says whether the call may block (it then
  // runs on the offload), `handler` answers it, told whether it runs on
  // the offload (only there may it wait). Before Start only.
  template <class Service, class Base, class Req, class Resp>
  void Add(Service* service, RequestFn<Base, Req, Resp> request,
           std::type_identity_t<std::function<bool(const Req&)>> blocks,
           std::type_identity_t<std::function<
               grpc::Status(grpc::ServerContext*, const Req*, Resp*, bool)>>
               handler) {
    auto m = std::make_shared<Method<Req, Resp>>();
    m->request = [service, request](grpc::ServerContext* ctx, Req* req,
                                    grpc::ServerAsyncResponseWriter<Resp>* w,
                                    grpc::ServerCompletionQueue* cq,
                                    void* tag) {
      (service->*request)(ctx, req, w, cq, cq, tag);
    };
    m->blocks = std::move(blocks);
    m->handler = std::move(handler);
    m->offload = &offload_;
    m->queue = &queue_;
    starters_.push_back([m](grpc::ServerCompletionQueue* cq) {
      auto* first = new Call<Req, Resp>(m, cq);
      if (!first->Ask()) delete first;
    });
  }

  // After the server is built: asks for the first call of every method and
  // starts polling.
  void Start();
  // After the server's Shutdown and after every offloaded call finished:
  // drains the queue and joins the polling thread. Idempotent.
  void Stop();

 private:
  // The queue, open until Stop: nothing may be asked of it after its
  // Shutdown.
  struct Queue {
    absl::Mutex mu;
    bool open ABSL_GUARDED_BY(mu) = true;
  };

  // A queued event: a call arrived (or the server is going), or its answer
  // was written.
  class Tag {
   public:
    virtual ~Tag() = default;
    virtual void Proceed(bool ok) = 0;
  };

  template <class Req, class Resp>
  struct Method {
    std::function<void(grpc::ServerContext*, Req*,
                       grpc::ServerAsyncResponseWriter<Resp>*,
                       grpc::ServerCompletionQueue*, void*)>
        request;
    std::function<bool(const Req&)> blocks;
    std::function<grpc::Status(grpc::ServerContext*, const Req*, Resp*, bool)>
        handler;
    const Offload* offload = nullptr;
    Queue* queue = nullptr;
  };

  // One call, from its arrival to its answer's write; deletes itself.
  template <class Req, class Resp>
  class Call final : public Tag {
   public:
    Call(std::shared_ptr<Method<Req, Resp>> m, grpc::ServerCompletionQueue* cq)
        : m_(std::move(m)), cq_(cq) {}
    // Asks for the next call of the method; false once the queue is closed.
    bool Ask() {
      absl::MutexLock l(&m_->queue->mu);
      if (!m_->queue->open) return false;
      m_->request(&ctx_, &req_, &writer_, cq_, this);
      return true;
    }
    void Proceed(bool ok) override {
      if (!ok || answered_) {  // the server is going, or the answer is out
        delete this;
        return;
      }
      auto* next = new Call(m_, cq_);
      if (!next->Ask()) delete next;
      answered_ = true;
      if (m_->blocks && m_->blocks(req_)) {
        (*m_->offload)([this] { Answer(/*offloaded=*/true); });
      } else {
        Answer(/*offloaded=*/false);
      }
    }

   private:
    void Answer(bool offloaded) {
      const grpc::Status status = m_->handler(&ctx_, &req_, &resp_, offloaded);
      {
        absl::MutexLock l(&m_->queue->mu);
        if (m_->queue->open) {
          writer_.Finish(resp_, status, this);
          return;
        }
      }
      delete this;  // the server is gone; so is the call
    }

    std::shared_ptr<Method<Req, Resp>> m_;
    grpc::ServerCompletionQueue* cq_;
    grpc::ServerContext ctx_;
    Req req_;
    Resp resp_;
    grpc::ServerAsyncResponseWriter<Resp> writer_{&ctx_};
    bool answered_ = false;
  };

  Offload offload_;
  Queue queue_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::vector<std::function<void(grpc::ServerCompletionQueue*)>> starters_;
  std::thread poller_;
  bool stopped_ = false;
};

}  // namespace zun::cri::internal
