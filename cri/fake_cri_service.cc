#include "cri/fake_cri_service.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "cri/async_unary.h"
#include "cri/blocking_calls.h"
#include "cri/convert.h"
#include "cri/fake_list_wire.h"
#include "cri/fake_script.h"
#include "cri/fake_validation.h"
#include "grpcpp/grpcpp.h"
#include "runtime/v1/api.grpc.pb.h"

namespace zun::cri::fake {
namespace {

namespace pb = ::runtime::v1;
using internal::FromProto;
using internal::ToGrpc;
using internal::ToProto;

using internal::AsyncUnaryServer;

// A pull of an image scripted to take time blocks its thread.
bool PullTakesTime(const pb::PullImageRequest& req) {
  return ImageBehaviourOf(req.image().image()).pull_latency >
         absl::ZeroDuration();
}

// A list may carry thousands of items (a relist of a full node: a few
// milliseconds to copy, convert and serialise): it is answered on a thread
// of its own, so that the calls behind it are not held for that long on
// the polling thread. containerd, too, answers calls concurrently.
template <class Req>
bool IsList(const Req&) {
  return true;
}

// Whether the call this thread serves may wait for its faults: not on the
// polling thread. A call found without faults when it arrived is served as
// if it came before any set while it was being dispatched, so that the
// polling thread never sleeps.
thread_local bool t_may_wait = true;

// The two services as one server serves them: fresh AsyncService objects
// (gRPC binds one to a single server) and the engine that polls for their
// calls.
struct Serving final : FakeCriServing {
  Serving(grpc::ServerBuilder& builder, AsyncUnaryServer::Offload offload)
      : engine(builder, std::move(offload)) {}
  void Start() override { engine.Start(); }
  void Stop() override { engine.Stop(); }

  pb::RuntimeService::AsyncService runtime;
  pb::ImageService::AsyncService image;
  AsyncUnaryServer engine;  // declared last: stops before the services go
};

// Both CRI services' handlers; every handler applies faults, logs the call
// and converts between protobuf and the runtime's domain types. A call is
// answered on the polling thread, unless it may block (faults set for its
// method, a scripted pull time) or is a list: then on a thread of its own.
class ServicesImpl final : public FakeCriServices {
 public:
  ServicesImpl(FakeRuntime& rt, FaultInjector& faults)
      : rt_(rt), faults_(faults) {}
  ~ServicesImpl() override { blocking_.Drain(); }

  std::unique_ptr<FakeCriServing> AttachTo(
      grpc::ServerBuilder& builder) override;
  void Drain() override { blocking_.Drain(); }

 private:
  // Serves `request` of `svc` with the handler `fn`: on a thread of its
  // own when faults are set for `method` or `blocks` says so.
  template <class Svc, class Base, class Req, class Resp>
  void Bind(Serving& s, Svc* svc,
            AsyncUnaryServer::RequestFn<Base, Req, Resp> request,
            std::string_view method,
            grpc::Status (ServicesImpl::*fn)(grpc::ServerContext*, const Req*,
                                             Resp*),
            bool (*blocks)(const Req&) = nullptr) {
    s.engine.Add(
        svc, request,
        [this, method, blocks](const Req& req) {
          return faults_.HasFaults(method) || (blocks && blocks(req));
        },
        [this, fn](grpc::ServerContext* ctx, const Req* req, Resp* resp,
                   bool offloaded) {
          t_may_wait = offloaded;
          const grpc::Status status = (this->*fn)(ctx, req, resp);
          t_may_wait = true;
          return status;
        });
  }

#define ZUN_FAKE_PREAMBLE(method)                                 \
  ZUN_LOG(kCri, debug, "fake-cri: {}", method);                   \
  if (absl::Status fault = faults_.Apply(                         \
          method, absl::FromChrono(ctx->deadline()), t_may_wait); \
      !fault.ok()) {                                              \
    return ToGrpc(fault);                                         \
  }

  grpc::Status Version(grpc::ServerContext* ctx, const pb::VersionRequest*,
                       pb::VersionResponse* resp) {
    ZUN_FAKE_PREAMBLE("Version");
    VersionInfo v = rt_.Version();
    resp->set_version(v.version);
    resp->set_runtime_name(v.runtime_name);
    resp->set_runtime_version(v.runtime_version);
    resp->set_runtime_api_version(v.runtime_api_version);
    return grpc::Status::OK;
  }

  grpc::Status Status(grpc::ServerContext* ctx, const pb::StatusRequest*,
                      pb::StatusResponse* resp) {
    ZUN_FAKE_PREAMBLE("Status");
    ToProto(rt_.Status(), resp);
    return grpc::Status::OK;
  }

  grpc::Status RunPodSandbox(grpc::ServerContext* ctx,
                             const pb::RunPodSandboxRequest* req,
                             pb::RunPodSandboxResponse* resp) {
    ZUN_LOG(kCri, debug, "fake-cri: RunPodSandbox");
    // Latency is spent after the name is reserved, as containerd does.
    absl::StatusOr<absl::Duration> latency = faults_.Check(
        "RunPodSandbox", absl::FromChrono(ctx->deadline()), t_may_wait);
    if (!latency.ok()) return ToGrpc(latency.status());
    if (absl::Status s = ValidateSandboxConfig(req->config()); !s.ok()) {
      return ToGrpc(s);
    }
    auto id = rt_.RunPodSandbox(FromProto(req->config()),
                                req->runtime_handler(), *latency);
    if (!id.ok()) return ToGrpc(id.status());
    resp->set_pod_sandbox_id(*id);
    return grpc::Status::OK;
  }

  grpc::Status StopPodSandbox(grpc::ServerContext* ctx,
                              const pb::StopPodSandboxRequest* req,
                              pb::StopPodSandboxResponse*) {
    ZUN_FAKE_PREAMBLE("StopPodSandbox");
    return ToGrpc(rt_.StopPodSandbox(req->pod_sandbox_id()));
  }

  grpc::Status RemovePodSandbox(grpc::ServerContext* ctx,
                                const pb::RemovePodSandboxRequest* req,
                                pb::RemovePodSandboxResponse*) {
    ZUN_FAKE_PREAMBLE("RemovePodSandbox");
    return ToGrpc(rt_.RemovePodSandbox(req->pod_sandbox_id()));
  }

  grpc::Status PodSandboxStatus(grpc::ServerContext* ctx,
                                const pb::PodSandboxStatusRequest* req,
                                pb::PodSandboxStatusResponse* resp) {
    ZUN_FAKE_PREAMBLE("PodSandboxStatus");
    auto st = rt_.PodSandboxStatus(req->pod_sandbox_id());
    if (!st.ok()) return ToGrpc(st.status());
    ToProto(*st, resp->mutable_status());
    return grpc::Status::OK;
  }

  grpc::Status ListPodSandbox(grpc::ServerContext* ctx,
                              const pb::ListPodSandboxRequest* req,
                              pb::ListPodSandboxResponse* resp) {
    ZUN_FAKE_PREAMBLE("ListPodSandbox");
    ListPodSandboxInto(rt_, FromProto(req->filter()), resp);
    return grpc::Status::OK;
  }

  grpc::Status CreateContainer(grpc::ServerContext* ctx,
                               const pb::CreateContainerRequest* req,
                               pb::CreateContainerResponse* resp) {
    ZUN_FAKE_PREAMBLE("CreateContainer");
    if (absl::Status s = ValidateContainerConfig(req->config()); !s.ok()) {
      return ToGrpc(s);
    }
    auto id =
        rt_.CreateContainer(req->pod_sandbox_id(), FromProto(req->config()));
    if (!id.ok()) return ToGrpc(id.status());
    resp->set_container_id(*id);
    return grpc::Status::OK;
  }

  grpc::Status ReopenContainerLog(grpc::ServerContext* ctx,
                                  const pb::ReopenContainerLogRequest* req,
                                  pb::ReopenContainerLogResponse*) {
    ZUN_FAKE_PREAMBLE("ReopenContainerLog");
    return ToGrpc(rt_.ReopenContainerLog(req->container_id()));
  }

  grpc::Status StartContainer(grpc::ServerContext* ctx,
                              const pb::StartContainerRequest* req,
                              pb::StartContainerResponse*) {
    ZUN_FAKE_PREAMBLE("StartContainer");
    return ToGrpc(rt_.StartContainer(req->container_id()));
  }

  grpc::Status StopContainer(grpc::ServerContext* ctx,
                             const pb::StopContainerRequest* req,
                             pb::StopContainerResponse*) {
    ZUN_FAKE_PREAMBLE("StopContainer");
    return ToGrpc(rt_.StopContainer(req->container_id(), req->timeout()));
  }

  grpc::Status RemoveContainer(grpc::ServerContext* ctx,
                               const pb::RemoveContainerRequest* req,
                               pb::RemoveContainerResponse*) {
    ZUN_FAKE_PREAMBLE("RemoveContainer");
    return ToGrpc(rt_.RemoveContainer(req->container_id()));
  }

  grpc::Status ListContainers(grpc::ServerContext* ctx,
                              const pb::ListContainersRequest* req,
                              pb::ListContainersResponse* resp) {
    ZUN_FAKE_PREAMBLE("ListContainers");
    ListContainersInto(rt_, FromProto(req->filter()), resp);
    return grpc::Status::OK;
  }

  grpc::Status ContainerStatus(grpc::ServerContext* ctx,
                               const pb::ContainerStatusRequest* req,
                               pb::ContainerStatusResponse* resp) {
    ZUN_FAKE_PREAMBLE("ContainerStatus");
    auto st = rt_.ContainerStatus(req->container_id());
    if (!st.ok()) return ToGrpc(st.status());
    ToProto(*st, resp->mutable_status());
    return grpc::Status::OK;
  }

  grpc::Status UpdateContainerResources(
      grpc::ServerContext* ctx, const pb::UpdateContainerResourcesRequest* req,
      pb::UpdateContainerResourcesResponse*) {
    ZUN_FAKE_PREAMBLE("UpdateContainerResources");
    return ToGrpc(rt_.UpdateContainerResources(req->container_id(),
                                               FromProto(req->linux())));
  }

  grpc::Status ExecSync(grpc::ServerContext* ctx,
                        const pb::ExecSyncRequest* req,
                        pb::ExecSyncResponse* resp) {
    ZUN_FAKE_PREAMBLE("ExecSync");
    auto r = rt_.ExecSync(
        req->container_id(),
        std::vector<std::string>(req->cmd().begin(), req->cmd().end()));
    if (!r.ok()) return ToGrpc(r.status());
    resp->set_stdout(r->stdout_data);
    resp->set_stderr(r->stderr_data);
    resp->set_exit_code(r->exit_code);
    return grpc::Status::OK;
  }

  grpc::Status ContainerStats(grpc::ServerContext* ctx,
                              const pb::ContainerStatsRequest* req,
                              pb::ContainerStatsResponse* resp) {
    ZUN_FAKE_PREAMBLE("ContainerStats");
    auto st = rt_.ContainerStats(req->container_id());
    if (!st.ok()) return ToGrpc(st.status());
    ToProto(*st, resp->mutable_stats());
    return grpc::Status::OK;
  }

  grpc::Status ListContainerStats(grpc::ServerContext* ctx,
                                  const pb::ListContainerStatsRequest* req,
                                  pb::ListContainerStatsResponse* resp) {
    ZUN_FAKE_PREAMBLE("ListContainerStats");
    Labels labels(req->filter().label_selector().begin(),
                  req->filter().label_selector().end());
    for (const auto& st : rt_.ListContainerStats(labels)) {
      ToProto(st, resp->add_stats());
    }
    return grpc::Status::OK;
  }

  grpc::Status PodSandboxStats(grpc::ServerContext* ctx,
                               const pb::PodSandboxStatsRequest* req,
                               pb::PodSandboxStatsResponse* resp) {
    ZUN_FAKE_PREAMBLE("PodSandboxStats");
    if (req->pod_sandbox_id().empty()) {
      return ToGrpc(absl::InvalidArgumentError("pod sandbox id is empty"));
    }
    std::vector<SandboxStatsInfo> st =
        rt_.ListPodSandboxStats(req->pod_sandbox_id(), {});
    if (st.empty()) {
      return ToGrpc(absl::NotFoundError(
          absl::StrCat("an error occurred when try to find sandbox \"",
                       req->pod_sandbox_id(), "\": not found")));
    }
    ToProto(st.front(), resp->mutable_stats());
    return grpc::Status::OK;
  }

  grpc::Status ListPodSandboxStats(grpc::ServerContext* ctx,
                                   const pb::ListPodSandboxStatsRequest* req,
                                   pb::ListPodSandboxStatsResponse* resp) {
    ZUN_FAKE_PREAMBLE("ListPodSandboxStats");
    Labels labels(req->filter().label_selector().begin(),
                  req->filter().label_selector().end());
    for (const auto& st : rt_.ListPodSandboxStats(req->filter().id(), labels)) {
      ToProto(st, resp->add_stats());
    }
    return grpc::Status::OK;
  }

  grpc::Status ImageStatus(grpc::ServerContext* ctx,
                           const pb::ImageStatusRequest* req,
                           pb::ImageStatusResponse* resp) {
    ZUN_FAKE_PREAMBLE("ImageStatus");
    ImageInfo info = rt_.ImageStatus(req->image().image());
    if (!info.id.empty()) ToProto(info, resp->mutable_image());
    return grpc::Status::OK;
  }

  grpc::Status PullImage(grpc::ServerContext* ctx,
                         const pb::PullImageRequest* req,
                         pb::PullImageResponse* resp) {
    ZUN_FAKE_PREAMBLE("PullImage");
    AuthConfig auth = FromProto(req->auth());
    auto ref =
        rt_.PullImage(req->image().image(), req->has_auth() ? &auth : nullptr);
    if (!ref.ok()) return ToGrpc(ref.status());
    resp->set_image_ref(*ref);
    return grpc::Status::OK;
  }

  grpc::Status ListImages(grpc::ServerContext* ctx,
                          const pb::ListImagesRequest*,
                          pb::ListImagesResponse* resp) {
    ZUN_FAKE_PREAMBLE("ListImages");
    for (const auto& img : rt_.ListImages()) ToProto(img, resp->add_images());
    return grpc::Status::OK;
  }

  grpc::Status RemoveImage(grpc::ServerContext* ctx,
                           const pb::RemoveImageRequest* req,
                           pb::RemoveImageResponse*) {
    ZUN_FAKE_PREAMBLE("RemoveImage");
    return ToGrpc(rt_.RemoveImage(req->image().image()));
  }

  grpc::Status ImageFsInfo(grpc::ServerContext* ctx,
                           const pb::ImageFsInfoRequest*,
                           pb::ImageFsInfoResponse* resp) {
    ZUN_FAKE_PREAMBLE("ImageFsInfo");
    for (const auto& fs : rt_.ImageFsInfo()) {
      auto* p = resp->add_image_filesystems();
      p->set_timestamp(fs.timestamp);
      p->mutable_fs_id()->set_mountpoint(fs.mountpoint);
      p->mutable_used_bytes()->set_value(fs.used_bytes);
      p->mutable_inodes_used()->set_value(fs.inodes_used);
    }
    return grpc::Status::OK;
  }

#undef ZUN_FAKE_PREAMBLE

  FakeRuntime& rt_;
  FaultInjector& faults_;
  BlockingCalls blocking_;
};

std::unique_ptr<FakeCriServing> ServicesImpl::AttachTo(
    grpc::ServerBuilder& builder) {
  auto s = std::make_unique<Serving>(builder,
                                     [this](absl::AnyInvocable<void()> call) {
                                       blocking_.Run(std::move(call));
                                     });
  builder.RegisterService(&s->runtime);
  builder.RegisterService(&s->image);
  using Rt = pb::RuntimeService::AsyncService;
  using Im = pb::ImageService::AsyncService;
  pb::RuntimeService::AsyncService* rt = &s->runtime;
  pb::ImageService::AsyncService* im = &s->image;
  Bind(*s, rt, &Rt::RequestVersion, "Version", &ServicesImpl::Version);
  Bind(*s, rt, &Rt::RequestStatus, "Status", &ServicesImpl::Status);
  Bind(*s, rt, &Rt::RequestRunPodSandbox, "RunPodSandbox",
       &ServicesImpl::RunPodSandbox);
  Bind(*s, rt, &Rt::RequestStopPodSandbox, "StopPodSandbox",
       &ServicesImpl::StopPodSandbox);
  Bind(*s, rt, &Rt::RequestRemovePodSandbox, "RemovePodSandbox",
       &ServicesImpl::RemovePodSandbox);
  Bind(*s, rt, &Rt::RequestPodSandboxStatus, "PodSandboxStatus",
       &ServicesImpl::PodSandboxStatus);
  Bind(*s, rt, &Rt::RequestListPodSandbox, "ListPodSandbox",
       &ServicesImpl::ListPodSandbox, &IsList);
  Bind(*s, rt, &Rt::RequestCreateContainer, "CreateContainer",
       &ServicesImpl::CreateContainer);
  Bind(*s, rt, &Rt::RequestReopenContainerLog, "ReopenContainerLog",
       &ServicesImpl::ReopenContainerLog);
  Bind(*s, rt, &Rt::RequestStartContainer, "StartContainer",
       &ServicesImpl::StartContainer);
  Bind(*s, rt, &Rt::RequestStopContainer, "StopContainer",
       &ServicesImpl::StopContainer);
  Bind(*s, rt, &Rt::RequestRemoveContainer, "RemoveContainer",
       &ServicesImpl::RemoveContainer);
  Bind(*s, rt, &Rt::RequestListContainers, "ListContainers",
       &ServicesImpl::ListContainers, &IsList);
  Bind(*s, rt, &Rt::RequestContainerStatus, "ContainerStatus",
       &ServicesImpl::ContainerStatus);
  Bind(*s, rt, &Rt::RequestUpdateContainerResources, "UpdateContainerResources",
       &ServicesImpl::UpdateContainerResources);
  Bind(*s, rt, &Rt::RequestExecSync, "ExecSync", &ServicesImpl::ExecSync);
  Bind(*s, rt, &Rt::RequestContainerStats, "ContainerStats",
       &ServicesImpl::ContainerStats);
  Bind(*s, rt, &Rt::RequestListContainerStats, "ListContainerStats",
       &ServicesImpl::ListContainerStats, &IsList);
  Bind(*s, rt, &Rt::RequestPodSandboxStats, "PodSandboxStats",
       &ServicesImpl::PodSandboxStats);
  Bind(*s, rt, &Rt::RequestListPodSandboxStats, "ListPodSandboxStats",
       &ServicesImpl::ListPodSandboxStats, &IsList);
  Bind(*s, im, &Im::RequestImageStatus, "ImageStatus",
       &ServicesImpl::ImageStatus);
  Bind(*s, im, &Im::RequestPullImage, "PullImage", &ServicesImpl::PullImage,
       &PullTakesTime);
  Bind(*s, im, &Im::RequestListImages, "ListImages", &ServicesImpl::ListImages);
  Bind(*s, im, &Im::RequestRemoveImage, "RemoveImage",
       &ServicesImpl::RemoveImage);
  Bind(*s, im, &Im::RequestImageFsInfo, "ImageFsInfo",
       &ServicesImpl::ImageFsInfo);
  return s;
}

}  // namespace

std::unique_ptr<FakeCriServices> NewFakeCriServices(FakeRuntime& runtime,
                                                    FaultInjector& faults) {
  return std::make_unique<ServicesImpl>(runtime, faults);
}

}  // namespace zun::cri::fake
