#include "cri/fake_control_client.h"

#include <chrono>

#include "cri/convert.h"
#include "fakecri/v1/control.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace zun::cri::fake {

namespace cpb = ::zun::fakecri::v1;

class FakeCriControlClient::Impl {
 public:
  explicit Impl(const std::string& endpoint)
      : stub_(cpb::FakeCriControl::NewStub(grpc::CreateChannel(
            endpoint, grpc::InsecureChannelCredentials()))) {}
  void Deadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
  }
  std::unique_ptr<cpb::FakeCriControl::Stub> stub_;
};

FakeCriControlClient::FakeCriControlClient(const std::string& endpoint)
    : impl_(std::make_unique<Impl>(endpoint)) {}
FakeCriControlClient::~FakeCriControlClient() = default;

absl::Status FakeCriControlClient::SetFaults(
    const std::map<std::string, std::string>& faults, bool clear_first) {
  cpb::SetFaultsRequest req;
  req.set_clear(clear_first);
  for (const auto& [m, spec] : faults) (*req.mutable_faults())[m] = spec;
  cpb::SetFaultsResponse resp;
  grpc::ClientContext ctx;
  impl_->Deadline(&ctx);
  return internal::FromGrpc(impl_->stub_->SetFaults(&ctx, req, &resp));
}

absl::Status FakeCriControlClient::Restart(bool keep_state,
                                           absl::Duration downtime) {
  cpb::RestartRequest req;
  req.set_keep_state(keep_state);
  req.set_downtime_ms(absl::ToInt64Milliseconds(downtime));
  cpb::RestartResponse resp;
  grpc::ClientContext ctx;
  impl_->Deadline(&ctx);
  return internal::FromGrpc(impl_->stub_->Restart(&ctx, req, &resp));
}

absl::StatusOr<FakeCriStats> FakeCriControlClient::Stats() {
  cpb::GetStatsRequest req;
  cpb::GetStatsResponse resp;
  grpc::ClientContext ctx;
  impl_->Deadline(&ctx);
  absl::Status s = internal::FromGrpc(impl_->stub_->GetStats(&ctx, req, &resp));
  if (!s.ok()) return s;
  FakeCriStats out;
  out.calls =
      std::map<std::string, int64_t>(resp.calls().begin(), resp.calls().end());
  out.sandboxes = resp.sandboxes();
  out.containers = resp.containers();
  out.restarts = resp.restarts();
  return out;
}

}  // namespace zun::cri::fake
