#include "cri/fake_cri_server.h"

#include <chrono>

#include "common/logging.h"
#include "cri/convert.h"
#include "cri/fake_cri_service.h"
#include "fakecri/v1/control.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace zun::cri::fake {

using internal::ToGrpc;

namespace cpb = ::zun::fakecri::v1;

// The control service: faults, simulated restarts, statistics.
class FakeCriServer::Control final : public cpb::FakeCriControl::Service {
 public:
  Control(FakeCriServer& server, FakeRuntime& rt, FaultInjector& faults)
      : server_(server), rt_(rt), faults_(faults) {}

  grpc::Status SetFaults(grpc::ServerContext*, const cpb::SetFaultsRequest* req,
                         cpb::SetFaultsResponse*) override {
    if (req->clear()) faults_.Clear();
    for (const auto& [method, spec] : req->faults()) {
      absl::StatusOr<MethodFaults> f = ParseMethodFaults(spec);
      if (!f.ok()) return ToGrpc(f.status());
      faults_.Set(method, *f);
      ZUN_LOG(kCri, info, "fake-cri: faults of {} = '{}'", method, spec);
    }
    return grpc::Status::OK;
  }

  grpc::Status Restart(grpc::ServerContext*, const cpb::RestartRequest* req,
                       cpb::RestartResponse*) override {
    server_.RestartAsync(req->keep_state(),
                         absl::Milliseconds(req->downtime_ms()));
    return grpc::Status::OK;
  }

  grpc::Status GetStats(grpc::ServerContext*, const cpb::GetStatsRequest*,
                        cpb::GetStatsResponse* resp) override {
    for (const auto& [method, n] : faults_.AllCalls()) {
      (*resp->mutable_calls())[method] = n;
    }
    resp->set_sandboxes(rt_.NumSandboxes());
    resp->set_containers(rt_.NumContainers());
    resp->set_restarts(server_.restarts_.load());
    return grpc::Status::OK;
  }

 private:
  FakeCriServer& server_;
  FakeRuntime& rt_;
  FaultInjector& faults_;
};

struct FakeCriServer::ServerHolder {
  std::unique_ptr<FakeCriServing> serving;  // outlives the server
  std::unique_ptr<grpc::Server> server;
  std::string path;
};

FakeCriServer::FakeCriServer(FakeRuntime& runtime, FaultInjector& faults)
    : runtime_(runtime),
      service_(NewFakeCriServices(runtime, faults)),
      control_(std::make_unique<Control>(*this, runtime, faults)) {}

FakeCriServer::~FakeCriServer() {
  {
    absl::MutexLock l(&mu_);
    destroying_ = true;
  }
  if (restart_thread_.joinable()) restart_thread_.join();
  Shutdown();
}

void FakeCriServer::RestartAsync(bool keep_state, absl::Duration downtime) {
  absl::MutexLock l(&mu_);
  if (destroying_ || restarting_) return;
  restarting_ = true;
  if (restart_thread_.joinable()) restart_thread_.detach();
  restart_thread_ = std::thread([this, keep_state, downtime] {
    const std::string endpoint = endpoint_;
    ZUN_LOG(kCri, info, "fake-cri: restarting ({} state, {} down)",
            keep_state ? "keeping" : "losing", absl::FormatDuration(downtime));
    Shutdown();
    if (!keep_state) runtime_.ForgetAllPods();
    absl::SleepFor(downtime);
    ++restarts_;
    if (absl::Status s = Start(endpoint); !s.ok()) {
      ZUN_LOG(kCri, error, "fake-cri: restart failed: {}", s.message());
    }
    absl::MutexLock done(&mu_);
    restarting_ = false;
  });
}

absl::Status FakeCriServer::Start(const std::string& endpoint) {
  {
    absl::MutexLock l(&mu_);
    endpoint_ = endpoint;
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(endpoint, grpc::InsecureServerCredentials());
  std::unique_ptr<FakeCriServing> serving = service_->AttachTo(builder);
  builder.RegisterService(control_.get());
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  auto server = builder.BuildAndStart();
  if (!server) {
    return absl::UnavailableError("fake-cri: cannot listen on " + endpoint);
  }
  serving->Start();
  auto holder = std::make_unique<ServerHolder>();
  holder->serving = std::move(serving);
  holder->server = std::move(server);
  holder->path = endpoint;
  absl::MutexLock l(&mu_);
  server_ = std::move(holder);
  ZUN_LOG(kCri, info, "fake-cri listening on {}", endpoint);
  return absl::OkStatus();
}

void FakeCriServer::Shutdown() {
  std::unique_ptr<ServerHolder> holder;
  {
    absl::MutexLock l(&mu_);
    holder = std::move(server_);
  }
  if (!holder) return;
  holder->server->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::seconds(2));
  // The calls still running on threads of their own answer before the
  // queue closes.
  service_->Drain();
  holder->serving->Stop();
  holder->server->Wait();
}

}  // namespace zun::cri::fake
