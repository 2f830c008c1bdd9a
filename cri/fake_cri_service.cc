#include "cri/fake_cri_service.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "cri/blocking_calls.h"
#include "cri/convert.h"
#include "cri/fake_validation.h"
#include "grpcpp/grpcpp.h"
#include "runtime/v1/api.grpc.pb.h"

namespace zun::cri::fake {
namespace {

namespace pb = ::runtime::v1;
using internal::FromProto;
using internal::ToGrpc;
using internal::ToProto;

// Both CRI services in one object (gRPC's callback API: a call that cannot
// block is served on the thread that read it, with no hand-off); every
// handler applies faults, logs the call and converts between protobuf and
// the runtime's domain types.
class ServicesImpl final : public FakeCriServices,
                           public pb::RuntimeService::CallbackService,
                           public pb::ImageService::CallbackService {
 public:
  ServicesImpl(FakeRuntime& rt, FaultInjector& faults)
      : rt_(rt), faults_(faults) {}
  ~ServicesImpl() override { blocking_.Drain(); }

  grpc::Service* runtime_service() override {
    return static_cast<pb::RuntimeService::CallbackService*>(this);
  }
  grpc::Service* image_service() override {
    return static_cast<pb::ImageService::CallbackService*>(this);
  }
  void Drain() override { blocking_.Drain(); }

  // Serves one call with `body` (which returns its status): inline, or on
  // a thread of its own when it `may_block` or faults are set for it.
  template <typename Body>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx,
                                  std::string_view method, bool may_block,
                                  Body body) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!may_block && !faults_.HasFaults(method)) {
      reactor->Finish(body());
      return reactor;
    }
    blocking_.Run([reactor, body = std::move(body)]() mutable {
      reactor->Finish(body());
    });
    return reactor;
  }

#define ZUN_FAKE_PREAMBLE(method)                                   \
  ZUN_LOG(kCri, debug, "fake-cri: {}", method);                     \
  if (absl::Status fault =                                          \
          faults_.Apply(method, absl::FromChrono(ctx->deadline())); \
      !fault.ok()) {                                                \
    return ToGrpc(fault);                                           \
  }

  grpc::ServerUnaryReactor* Version(grpc::CallbackServerContext* ctx,
                                    const pb::VersionRequest*,
                                    pb::VersionResponse* resp) override {
    return Serve(ctx, "Version", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("Version");
                   VersionInfo v = rt_.Version();
                   resp->set_version(v.version);
                   resp->set_runtime_name(v.runtime_name);
                   resp->set_runtime_version(v.runtime_version);
                   resp->set_runtime_api_version(v.runtime_api_version);
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const pb::StatusRequest*,
                                   pb::StatusResponse* resp) override {
    return Serve(ctx, "Status", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("Status");
                   ToProto(rt_.Status(), resp);
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* RunPodSandbox(
      grpc::CallbackServerContext* ctx, const pb::RunPodSandboxRequest* req,
      pb::RunPodSandboxResponse* resp) override {
    return Serve(
        ctx, "RunPodSandbox", /*may_block=*/true, [=, this]() -> grpc::Status {
          ZUN_LOG(kCri, debug, "fake-cri: RunPodSandbox");
          // Latency is spent after the name is reserved, as containerd does.
          absl::StatusOr<absl::Duration> latency =
              faults_.Check("RunPodSandbox", absl::FromChrono(ctx->deadline()));
          if (!latency.ok()) return ToGrpc(latency.status());
          if (absl::Status s = ValidateSandboxConfig(req->config()); !s.ok()) {
            return ToGrpc(s);
          }
          auto id = rt_.RunPodSandbox(FromProto(req->config()),
                                      req->runtime_handler(), *latency);
          if (!id.ok()) return ToGrpc(id.status());
          resp->set_pod_sandbox_id(*id);
          return grpc::Status::OK;
        });
  }

  grpc::ServerUnaryReactor* StopPodSandbox(
      grpc::CallbackServerContext* ctx, const pb::StopPodSandboxRequest* req,
      pb::StopPodSandboxResponse*) override {
    return Serve(ctx, "StopPodSandbox", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("StopPodSandbox");
                   return ToGrpc(rt_.StopPodSandbox(req->pod_sandbox_id()));
                 });
  }

  grpc::ServerUnaryReactor* RemovePodSandbox(
      grpc::CallbackServerContext* ctx, const pb::RemovePodSandboxRequest* req,
      pb::RemovePodSandboxResponse*) override {
    return Serve(ctx, "RemovePodSandbox", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("RemovePodSandbox");
                   return ToGrpc(rt_.RemovePodSandbox(req->pod_sandbox_id()));
                 });
  }

  grpc::ServerUnaryReactor* PodSandboxStatus(
      grpc::CallbackServerContext* ctx, const pb::PodSandboxStatusRequest* req,
      pb::PodSandboxStatusResponse* resp) override {
    return Serve(ctx, "PodSandboxStatus", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("PodSandboxStatus");
                   auto st = rt_.PodSandboxStatus(req->pod_sandbox_id());
                   if (!st.ok()) return ToGrpc(st.status());
                   ToProto(*st, resp->mutable_status());
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* ListPodSandbox(
      grpc::CallbackServerContext* ctx, const pb::ListPodSandboxRequest* req,
      pb::ListPodSandboxResponse* resp) override {
    return Serve(
        ctx, "ListPodSandbox", /*may_block=*/false,
        [=, this]() -> grpc::Status {
          ZUN_FAKE_PREAMBLE("ListPodSandbox");
          for (const auto& sb : rt_.ListPodSandbox(FromProto(req->filter()))) {
            ToProto(sb, resp->add_items());
          }
          return grpc::Status::OK;
        });
  }

  grpc::ServerUnaryReactor* CreateContainer(
      grpc::CallbackServerContext* ctx, const pb::CreateContainerRequest* req,
      pb::CreateContainerResponse* resp) override {
    return Serve(ctx, "CreateContainer", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("CreateContainer");
                   if (absl::Status s = ValidateContainerConfig(req->config());
                       !s.ok()) {
                     return ToGrpc(s);
                   }
                   auto id = rt_.CreateContainer(req->pod_sandbox_id(),
                                                 FromProto(req->config()));
                   if (!id.ok()) return ToGrpc(id.status());
                   resp->set_container_id(*id);
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* ReopenContainerLog(
      grpc::CallbackServerContext* ctx,
      const pb::ReopenContainerLogRequest* req,
      pb::ReopenContainerLogResponse*) override {
    return Serve(ctx, "ReopenContainerLog", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ReopenContainerLog");
                   return ToGrpc(rt_.ReopenContainerLog(req->container_id()));
                 });
  }

  grpc::ServerUnaryReactor* StartContainer(
      grpc::CallbackServerContext* ctx, const pb::StartContainerRequest* req,
      pb::StartContainerResponse*) override {
    return Serve(ctx, "StartContainer", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("StartContainer");
                   return ToGrpc(rt_.StartContainer(req->container_id()));
                 });
  }

  grpc::ServerUnaryReactor* StopContainer(grpc::CallbackServerContext* ctx,
                                          const pb::StopContainerRequest* req,
                                          pb::StopContainerResponse*) override {
    return Serve(
        ctx, "StopContainer", /*may_block=*/false, [=, this]() -> grpc::Status {
          ZUN_FAKE_PREAMBLE("StopContainer");
          return ToGrpc(rt_.StopContainer(req->container_id(), req->timeout()));
        });
  }

  grpc::ServerUnaryReactor* RemoveContainer(
      grpc::CallbackServerContext* ctx, const pb::RemoveContainerRequest* req,
      pb::RemoveContainerResponse*) override {
    return Serve(ctx, "RemoveContainer", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("RemoveContainer");
                   return ToGrpc(rt_.RemoveContainer(req->container_id()));
                 });
  }

  grpc::ServerUnaryReactor* ListContainers(
      grpc::CallbackServerContext* ctx, const pb::ListContainersRequest* req,
      pb::ListContainersResponse* resp) override {
    return Serve(
        ctx, "ListContainers", /*may_block=*/false,
        [=, this]() -> grpc::Status {
          ZUN_FAKE_PREAMBLE("ListContainers");
          for (const auto& c : rt_.ListContainers(FromProto(req->filter()))) {
            ToProto(c, resp->add_containers());
          }
          return grpc::Status::OK;
        });
  }

  grpc::ServerUnaryReactor* ContainerStatus(
      grpc::CallbackServerContext* ctx, const pb::ContainerStatusRequest* req,
      pb::ContainerStatusResponse* resp) override {
    return Serve(ctx, "ContainerStatus", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ContainerStatus");
                   auto st = rt_.ContainerStatus(req->container_id());
                   if (!st.ok()) return ToGrpc(st.status());
                   ToProto(*st, resp->mutable_status());
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* UpdateContainerResources(
      grpc::CallbackServerContext* ctx,
      const pb::UpdateContainerResourcesRequest* req,
      pb::UpdateContainerResourcesResponse*) override {
    return Serve(ctx, "UpdateContainerResources", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("UpdateContainerResources");
                   return ToGrpc(rt_.UpdateContainerResources(
                       req->container_id(), FromProto(req->linux())));
                 });
  }

  grpc::ServerUnaryReactor* ExecSync(grpc::CallbackServerContext* ctx,
                                     const pb::ExecSyncRequest* req,
                                     pb::ExecSyncResponse* resp) override {
    return Serve(
        ctx, "ExecSync", /*may_block=*/false, [=, this]() -> grpc::Status {
          ZUN_FAKE_PREAMBLE("ExecSync");
          auto r = rt_.ExecSync(
              req->container_id(),
              std::vector<std::string>(req->cmd().begin(), req->cmd().end()));
          if (!r.ok()) return ToGrpc(r.status());
          resp->set_stdout(r->stdout_data);
          resp->set_stderr(r->stderr_data);
          resp->set_exit_code(r->exit_code);
          return grpc::Status::OK;
        });
  }

  grpc::ServerUnaryReactor* ContainerStats(
      grpc::CallbackServerContext* ctx, const pb::ContainerStatsRequest* req,
      pb::ContainerStatsResponse* resp) override {
    return Serve(ctx, "ContainerStats", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ContainerStats");
                   auto st = rt_.ContainerStats(req->container_id());
                   if (!st.ok()) return ToGrpc(st.status());
                   ToProto(*st, resp->mutable_stats());
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* ListContainerStats(
      grpc::CallbackServerContext* ctx,
      const pb::ListContainerStatsRequest* req,
      pb::ListContainerStatsResponse* resp) override {
    return Serve(ctx, "ListContainerStats", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ListContainerStats");
                   Labels labels(req->filter().label_selector().begin(),
                                 req->filter().label_selector().end());
                   for (const auto& st : rt_.ListContainerStats(labels)) {
                     ToProto(st, resp->add_stats());
                   }
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* PodSandboxStats(
      grpc::CallbackServerContext* ctx, const pb::PodSandboxStatsRequest* req,
      pb::PodSandboxStatsResponse* resp) override {
    return Serve(ctx, "PodSandboxStats", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("PodSandboxStats");
                   if (req->pod_sandbox_id().empty()) {
                     return ToGrpc(
                         absl::InvalidArgumentError("pod sandbox id is empty"));
                   }
                   std::vector<SandboxStatsInfo> st =
                       rt_.ListPodSandboxStats(req->pod_sandbox_id(), {});
                   if (st.empty()) {
                     return ToGrpc(absl::NotFoundError(absl::StrCat(
                         "an error occurred when try to find sandbox \"",
                         req->pod_sandbox_id(), "\": not found")));
                   }
                   ToProto(st.front(), resp->mutable_stats());
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* ListPodSandboxStats(
      grpc::CallbackServerContext* ctx,
      const pb::ListPodSandboxStatsRequest* req,
      pb::ListPodSandboxStatsResponse* resp) override {
    return Serve(ctx, "ListPodSandboxStats", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ListPodSandboxStats");
                   Labels labels(req->filter().label_selector().begin(),
                                 req->filter().label_selector().end());
                   for (const auto& st :
                        rt_.ListPodSandboxStats(req->filter().id(), labels)) {
                     ToProto(st, resp->add_stats());
                   }
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* ImageStatus(
      grpc::CallbackServerContext* ctx, const pb::ImageStatusRequest* req,
      pb::ImageStatusResponse* resp) override {
    return Serve(ctx, "ImageStatus", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ImageStatus");
                   ImageInfo info = rt_.ImageStatus(req->image().image());
                   if (!info.id.empty()) ToProto(info, resp->mutable_image());
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* PullImage(grpc::CallbackServerContext* ctx,
                                      const pb::PullImageRequest* req,
                                      pb::PullImageResponse* resp) override {
    return Serve(ctx, "PullImage", /*may_block=*/true,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("PullImage");
                   AuthConfig auth = FromProto(req->auth());
                   auto ref = rt_.PullImage(req->image().image(),
                                            req->has_auth() ? &auth : nullptr);
                   if (!ref.ok()) return ToGrpc(ref.status());
                   resp->set_image_ref(*ref);
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* ListImages(grpc::CallbackServerContext* ctx,
                                       const pb::ListImagesRequest*,
                                       pb::ListImagesResponse* resp) override {
    return Serve(ctx, "ListImages", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ListImages");
                   for (const auto& img : rt_.ListImages())
                     ToProto(img, resp->add_images());
                   return grpc::Status::OK;
                 });
  }

  grpc::ServerUnaryReactor* RemoveImage(grpc::CallbackServerContext* ctx,
                                        const pb::RemoveImageRequest* req,
                                        pb::RemoveImageResponse*) override {
    return Serve(ctx, "RemoveImage", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("RemoveImage");
                   return ToGrpc(rt_.RemoveImage(req->image().image()));
                 });
  }

  grpc::ServerUnaryReactor* ImageFsInfo(
      grpc::CallbackServerContext* ctx, const pb::ImageFsInfoRequest*,
      pb::ImageFsInfoResponse* resp) override {
    return Serve(ctx, "ImageFsInfo", /*may_block=*/false,
                 [=, this]() -> grpc::Status {
                   ZUN_FAKE_PREAMBLE("ImageFsInfo");
                   for (const auto& fs : rt_.ImageFsInfo()) {
                     auto* p = resp->add_image_filesystems();
                     p->set_timestamp(fs.timestamp);
                     p->mutable_fs_id()->set_mountpoint(fs.mountpoint);
                     p->mutable_used_bytes()->set_value(fs.used_bytes);
                     p->mutable_inodes_used()->set_value(fs.inodes_used);
                   }
                   return grpc::Status::OK;
                 });
  }

#undef ZUN_FAKE_PREAMBLE

 private:
  FakeRuntime& rt_;
  FaultInjector& faults_;
  BlockingCalls blocking_;
};

}  // namespace

std::unique_ptr<FakeCriServices> NewFakeCriServices(FakeRuntime& runtime,
                                                    FaultInjector& faults) {
  return std::make_unique<ServicesImpl>(runtime, faults);
}

}  // namespace zun::cri::fake
