#include "cri/grpc_cri_client.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"
#include "cri/convert.h"
#include "cri/list_decode.h"
#include "cri/quirks.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "runtime/v1/api.grpc.pb.h"

namespace zun::cri {

namespace pb = ::runtime::v1;
using internal::FromGrpc;
using internal::FromProto;
using internal::ToProto;

class GrpcCriClient::Impl {
 public:
  Impl(GrpcCriOptions options, Clock& clock)
      : options_(std::move(options)), clock_(clock) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                static_cast<int>(
                    absl::ToInt64Milliseconds(options_.max_reconnect_backoff)));
    auto runtime_channel = grpc::CreateCustomChannel(
        options_.runtime_endpoint, grpc::InsecureChannelCredentials(), args);
    runtime_ = pb::RuntimeService::NewStub(runtime_channel);
    runtime_raw_ = std::make_unique<grpc::GenericStub>(runtime_channel);
    auto image_channel = options_.image_endpoint == options_.runtime_endpoint
                             ? runtime_channel
                             : grpc::CreateCustomChannel(
                                   options_.image_endpoint,
                                   grpc::InsecureChannelCredentials(), args);
    image_ = pb::ImageService::NewStub(image_channel);
  }

  // Runs `rpc(ctx)` with a deadline of `timeout`, retrying UNAVAILABLE when
  // `idempotent`. The error message is prefixed with the method name.
  template <typename Fn>
  absl::Status Invoke(std::string_view method, bool idempotent,
                      absl::Duration timeout, Fn&& rpc) {
    Backoff backoff(options_.retry_backoff,
                    static_cast<uint64_t>(absl::ToUnixNanos(clock_.Now())));
    for (int attempt = 1;; ++attempt) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
      const auto start = std::chrono::steady_clock::now();
      grpc::Status s = rpc(&ctx);
      if (options_.on_call) {
        options_.on_call(
            method, absl::FromChrono(std::chrono::steady_clock::now() - start),
            static_cast<absl::StatusCode>(s.error_code()));
      }
      if (s.ok()) return absl::OkStatus();
      if (idempotent && s.error_code() == grpc::StatusCode::UNAVAILABLE &&
          attempt < options_.max_attempts) {
        clock_.SleepFor(backoff.Next());
        continue;
      }
      return absl::Status(
          static_cast<absl::StatusCode>(s.error_code()),
          absl::StrCat("CRI ", AV(method), ": ", s.error_message()));
    }
  }

  // A RuntimeService call whose answer is handed back as its bytes (the
  // list calls decode those themselves: list_decode.h). Blocks until the
  // call ends; `ctx` carries the deadline.
  grpc::Status RuntimeRawCall(grpc::ClientContext* ctx, std::string_view method,
                              const google::protobuf::MessageLite& request,
                              grpc::ByteBuffer* answer) {
    answer->Clear();
    const std::string bytes = request.SerializeAsString();
    grpc::Slice slice(bytes);
    const grpc::ByteBuffer sent(&slice, 1);
    grpc::CompletionQueue cq;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
        runtime_raw_->PrepareUnaryCall(
            ctx, absl::StrCat("/runtime.v1.RuntimeService/", AV(method)), sent,
            &cq);
    call->StartCall();
    grpc::Status status;
    call->Finish(answer, &status, this);
    void* tag;
    bool ok;
    cq.Next(&tag, &ok);  // the call's only event: it has ended
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    return status;
  }

  // A list call's answer, flattened into one string (the compact decoders
  // read it in place; one copy of about 1.7 MB for a 1,000-capsule relist).
  absl::StatusOr<std::unique_ptr<const std::string>> ListBytes(
      std::string_view method, const google::protobuf::MessageLite& request) {
    grpc::ByteBuffer answer;
    absl::Status s = Invoke(
        method, true, options_.request_timeout, [&](grpc::ClientContext* c) {
          return RuntimeRawCall(c, method, request, &answer);
        });
    if (!s.ok()) return s;
    std::vector<grpc::Slice> slices;
    if (!answer.Dump(&slices).ok()) {
      return absl::InternalError(
          absl::StrCat("CRI ", AV(method), ": unreadable answer"));
    }
    auto bytes = std::make_unique<std::string>();
    bytes->reserve(answer.Length());
    for (const grpc::Slice& slice : slices) {
      bytes->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    return bytes;
  }

  const GrpcCriOptions& options() const { return options_; }
  pb::RuntimeService::Stub& runtime() { return *runtime_; }
  pb::ImageService::Stub& image() { return *image_; }

 private:
  GrpcCriOptions options_;
  Clock& clock_;
  std::unique_ptr<pb::RuntimeService::Stub> runtime_;
  std::unique_ptr<grpc::GenericStub> runtime_raw_;
  std::unique_ptr<pb::ImageService::Stub> image_;
};

absl::StatusOr<std::unique_ptr<GrpcCriClient>> GrpcCriClient::Create(
    GrpcCriOptions options, Clock& clock) {
  if (options.image_endpoint.empty()) {
    options.image_endpoint = options.runtime_endpoint;
  }
  if (absl::Status s = ValidateCriEndpoint(options.runtime_endpoint); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateCriEndpoint(options.image_endpoint); !s.ok()) {
    return s;
  }
  return std::unique_ptr<GrpcCriClient>(
      new GrpcCriClient(std::make_unique<Impl>(std::move(options), clock)));
}

GrpcCriClient::GrpcCriClient(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
GrpcCriClient::~GrpcCriClient() = default;

absl::StatusOr<VersionInfo> GrpcCriClient::Handshake() {
  absl::StatusOr<VersionInfo> v = Version();
  const std::string& ep = impl_->options().runtime_endpoint;
  if (!v.ok()) {
    if (v.status().code() == absl::StatusCode::kUnimplemented) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the runtime at ", ep,
          " does not serve CRI runtime.v1 (containerd >= 1.6 does): ",
          v.status().message()));
    }
    return v.status();
  }
  if (!absl::StartsWith(v->runtime_api_version, "v1") ||
      absl::StartsWith(v->runtime_api_version, "v1alpha")) {
    return absl::FailedPreconditionError(
        absl::StrCat("the runtime at ", ep, " (", v->runtime_name, " ",
                     v->runtime_version, ") serves CRI API '",
                     v->runtime_api_version, "'; zun-agent needs runtime.v1"));
  }
  return v;
}

absl::StatusOr<VersionInfo> GrpcCriClient::Version() {
  pb::VersionRequest req;
  req.set_version("v1");
  pb::VersionResponse resp;
  absl::Status s =
      impl_->Invoke("Version", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().Version(c, req, &resp);
                    });
  if (!s.ok()) return s;
  return VersionInfo{resp.version(), resp.runtime_name(),
                     resp.runtime_version(), resp.runtime_api_version()};
}

absl::StatusOr<RuntimeStatusInfo> GrpcCriClient::Status() {
  pb::StatusRequest req;
  pb::StatusResponse resp;
  absl::Status s =
      impl_->Invoke("Status", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().Status(c, req, &resp);
                    });
  if (!s.ok()) return s;
  return FromProto(resp);
}

absl::StatusOr<std::string> GrpcCriClient::RunPodSandbox(
    const PodSandboxConfig& config, std::string_view runtime_handler) {
  pb::RunPodSandboxRequest req;
  ToProto(config, req.mutable_config());
  req.set_runtime_handler(std::string(runtime_handler));
  pb::RunPodSandboxResponse resp;
  absl::Status s = impl_->Invoke(
      "RunPodSandbox", false, impl_->options().sandbox_create_timeout,
      [&](grpc::ClientContext* c) {
        return impl_->runtime().RunPodSandbox(c, req, &resp);
      });
  if (s.ok()) return resp.pod_sandbox_id();
  if (IsSandboxNameReserved(s)) return RecoverReservedSandbox(*this, config, s);
  return s;
}

absl::Status GrpcCriClient::StopPodSandbox(std::string_view sandbox_id) {
  pb::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(std::string(sandbox_id));
  pb::StopPodSandboxResponse resp;
  absl::Status s =
      impl_->Invoke("StopPodSandbox", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().StopPodSandbox(c, req, &resp);
                    });
  return NotFoundIsOk(s);
}

absl::Status GrpcCriClient::RemovePodSandbox(std::string_view sandbox_id) {
  pb::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(std::string(sandbox_id));
  pb::RemovePodSandboxResponse resp;
  absl::Status s =
      impl_->Invoke("RemovePodSandbox", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().RemovePodSandbox(c, req, &resp);
                    });
  return NotFoundIsOk(s);
}

absl::StatusOr<SandboxStatusInfo> GrpcCriClient::PodSandboxStatus(
    std::string_view sandbox_id) {
  pb::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(std::string(sandbox_id));
  pb::PodSandboxStatusResponse resp;
  absl::Status s =
      impl_->Invoke("PodSandboxStatus", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().PodSandboxStatus(c, req, &resp);
                    });
  if (!s.ok()) return s;
  return FromProto(resp.status());
}

absl::StatusOr<std::vector<SandboxInfo>> GrpcCriClient::ListPodSandbox(
    const SandboxFilter& filter) {
  pb::ListPodSandboxRequest req;
  ToProto(filter, req.mutable_filter());
  // A relist's answer is thousands of items: decoded straight into what
  // `filter.keep` asks for (list_decode.h).
  grpc::ByteBuffer answer;
  absl::Status s = impl_->Invoke(
      "ListPodSandbox", true, impl_->options().request_timeout,
      [&](grpc::ClientContext* c) {
        return impl_->RuntimeRawCall(c, "ListPodSandbox", req, &answer);
      });
  if (!s.ok()) return s;
  grpc::ProtoBufferReader reader(&answer);
  return internal::DecodeSandboxList(reader, filter.keep);
}

absl::StatusOr<std::string> GrpcCriClient::CreateContainer(
    std::string_view sandbox_id, const ContainerConfig& config,
    const PodSandboxConfig& sandbox_config) {
  pb::CreateContainerRequest req;
  req.set_pod_sandbox_id(std::string(sandbox_id));
  ToProto(config, req.mutable_config());
  ToProto(sandbox_config, req.mutable_sandbox_config());
  pb::CreateContainerResponse resp;
  absl::Status s =
      impl_->Invoke("CreateContainer", false, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().CreateContainer(c, req, &resp);
                    });
  if (!s.ok()) return s;
  return resp.container_id();
}

absl::Status GrpcCriClient::StartContainer(std::string_view container_id) {
  pb::StartContainerRequest req;
  req.set_container_id(std::string(container_id));
  pb::StartContainerResponse resp;
  return impl_->Invoke("StartContainer", false,
                       impl_->options().request_timeout,
                       [&](grpc::ClientContext* c) {
                         return impl_->runtime().StartContainer(c, req, &resp);
                       });
}

absl::Status GrpcCriClient::ReopenContainerLog(std::string_view container_id) {
  pb::ReopenContainerLogRequest req;
  req.set_container_id(std::string(container_id));
  pb::ReopenContainerLogResponse resp;
  return impl_->Invoke(
      "ReopenContainerLog", false, impl_->options().request_timeout,
      [&](grpc::ClientContext* c) {
        return impl_->runtime().ReopenContainerLog(c, req, &resp);
      });
}

absl::Status GrpcCriClient::StopContainer(std::string_view container_id,
                                          absl::Duration grace) {
  pb::StopContainerRequest req;
  req.set_container_id(std::string(container_id));
  req.set_timeout(absl::ToInt64Seconds(absl::Ceil(grace, absl::Seconds(1))));
  pb::StopContainerResponse resp;
  absl::Status s = impl_->Invoke(
      "StopContainer", true, impl_->options().request_timeout + grace,
      [&](grpc::ClientContext* c) {
        return impl_->runtime().StopContainer(c, req, &resp);
      });
  return NotFoundIsOk(s);
}

absl::Status GrpcCriClient::RemoveContainer(std::string_view container_id) {
  pb::RemoveContainerRequest req;
  req.set_container_id(std::string(container_id));
  pb::RemoveContainerResponse resp;
  absl::Status s =
      impl_->Invoke("RemoveContainer", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().RemoveContainer(c, req, &resp);
                    });
  return NotFoundIsOk(s);
}

absl::StatusOr<std::vector<ContainerInfo>> GrpcCriClient::ListContainers(
    const ContainerFilter& filter) {
  pb::ListContainersRequest req;
  ToProto(filter, req.mutable_filter());
  grpc::ByteBuffer answer;  // as ListPodSandbox
  absl::Status s = impl_->Invoke(
      "ListContainers", true, impl_->options().request_timeout,
      [&](grpc::ClientContext* c) {
        return impl_->RuntimeRawCall(c, "ListContainers", req, &answer);
      });
  if (!s.ok()) return s;
  grpc::ProtoBufferReader reader(&answer);
  return internal::DecodeContainerList(reader, filter.keep);
}

absl::StatusOr<PodListing> GrpcCriClient::ListPods(
    const SandboxFilter& sandboxes, const ContainerFilter& containers) {
  if (absl::Status s = CheckListPodsArgs(sandboxes, containers); !s.ok()) {
    return s;
  }
  pb::ListPodSandboxRequest sreq;
  ToProto(sandboxes, sreq.mutable_filter());
  pb::ListContainersRequest creq;
  ToProto(containers, creq.mutable_filter());
  PodListing out;
  absl::StatusOr<std::unique_ptr<const std::string>> sb =
      impl_->ListBytes("ListPodSandbox", sreq);
  if (!sb.ok()) return sb.status();
  absl::Status s = internal::DecodeListedSandboxes(
      **sb, sandboxes.keep.label_keys, &out.sandboxes);
  if (!s.ok()) return s;
  out.bytes.push_back(*std::move(sb));  // the views stay valid: same string
  absl::StatusOr<std::unique_ptr<const std::string>> c =
      impl_->ListBytes("ListContainers", creq);
  if (!c.ok()) return c.status();
  s = internal::DecodeListedContainers(**c, containers.keep.label_keys,
                                       &out.containers);
  if (!s.ok()) return s;
  out.bytes.push_back(*std::move(c));
  return out;
}

absl::StatusOr<ContainerStatusInfo> GrpcCriClient::ContainerStatus(
    std::string_view container_id) {
  pb::ContainerStatusRequest req;
  req.set_container_id(std::string(container_id));
  pb::ContainerStatusResponse resp;
  absl::Status s =
      impl_->Invoke("ContainerStatus", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().ContainerStatus(c, req, &resp);
                    });
  if (!s.ok()) return s;
  return FromProto(resp.status());
}

absl::Status GrpcCriClient::UpdateContainerResources(
    std::string_view container_id, const LinuxResources& resources) {
  pb::UpdateContainerResourcesRequest req;
  req.set_container_id(std::string(container_id));
  ToProto(resources, req.mutable_linux());
  pb::UpdateContainerResourcesResponse resp;
  return impl_->Invoke(
      "UpdateContainerResources", true, impl_->options().request_timeout,
      [&](grpc::ClientContext* c) {
        return impl_->runtime().UpdateContainerResources(c, req, &resp);
      });
}

absl::StatusOr<ExecResult> GrpcCriClient::ExecSync(
    std::string_view container_id, const std::vector<std::string>& cmd,
    absl::Duration timeout) {
  pb::ExecSyncRequest req;
  req.set_container_id(std::string(container_id));
  for (const auto& a : cmd) req.add_cmd(a);
  req.set_timeout(absl::ToInt64Seconds(absl::Ceil(timeout, absl::Seconds(1))));
  pb::ExecSyncResponse resp;
  absl::Status s = impl_->Invoke(
      "ExecSync", false, impl_->options().request_timeout + timeout,
      [&](grpc::ClientContext* c) {
        return impl_->runtime().ExecSync(c, req, &resp);
      });
  if (!s.ok()) return s;
  return ExecResult{resp.stdout(), resp.stderr(), resp.exit_code()};
}

absl::StatusOr<ContainerStatsInfo> GrpcCriClient::ContainerStats(
    std::string_view container_id) {
  pb::ContainerStatsRequest req;
  req.set_container_id(std::string(container_id));
  pb::ContainerStatsResponse resp;
  absl::Status s =
      impl_->Invoke("ContainerStats", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->runtime().ContainerStats(c, req, &resp);
                    });
  if (!s.ok()) return s;
  return FromProto(resp.stats());
}

absl::StatusOr<std::vector<ContainerStatsInfo>>
GrpcCriClient::ListContainerStats(const Labels& labels) {
  pb::ListContainerStatsRequest req;
  for (const auto& [k, v] : labels) {
    (*req.mutable_filter()->mutable_label_selector())[k] = v;
  }
  pb::ListContainerStatsResponse resp;
  absl::Status s = impl_->Invoke(
      "ListContainerStats", true, impl_->options().request_timeout,
      [&](grpc::ClientContext* c) {
        return impl_->runtime().ListContainerStats(c, req, &resp);
      });
  if (!s.ok()) return s;
  std::vector<ContainerStatsInfo> out;
  for (const auto& st : resp.stats()) out.push_back(FromProto(st));
  return out;
}

absl::StatusOr<std::vector<SandboxStatsInfo>>
GrpcCriClient::ListPodSandboxStats(const Labels& labels) {
  pb::ListPodSandboxStatsRequest req;
  req.mutable_filter()->mutable_label_selector()->insert(labels.begin(),
                                                         labels.end());
  pb::ListPodSandboxStatsResponse resp;
  absl::Status s = impl_->Invoke(
      "ListPodSandboxStats", true, impl_->options().request_timeout,
      [&](grpc::ClientContext* c) {
        return impl_->runtime().ListPodSandboxStats(c, req, &resp);
      });
  if (!s.ok()) return s;
  std::vector<SandboxStatsInfo> out;
  for (const auto& st : resp.stats()) out.push_back(FromProto(st));
  return out;
}

absl::StatusOr<std::optional<ImageInfo>> GrpcCriClient::ImageStatus(
    std::string_view image) {
  pb::ImageStatusRequest req;
  req.mutable_image()->set_image(std::string(image));
  pb::ImageStatusResponse resp;
  absl::Status s =
      impl_->Invoke("ImageStatus", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->image().ImageStatus(c, req, &resp);
                    });
  if (s.code() == absl::StatusCode::kNotFound) return std::nullopt;
  if (!s.ok()) return s;
  if (!resp.has_image() || resp.image().id().empty()) return std::nullopt;
  return FromProto(resp.image());
}

absl::StatusOr<std::string> GrpcCriClient::PullImage(
    std::string_view image, const std::optional<AuthConfig>& auth,
    const PodSandboxConfig* sandbox) {
  pb::PullImageRequest req;
  req.mutable_image()->set_image(std::string(image));
  if (auth) ToProto(*auth, req.mutable_auth());
  if (sandbox != nullptr) ToProto(*sandbox, req.mutable_sandbox_config());
  pb::PullImageResponse resp;
  absl::Status s =
      impl_->Invoke("PullImage", true, impl_->options().image_pull_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->image().PullImage(c, req, &resp);
                    });
  if (!s.ok()) return s;
  return resp.image_ref();
}

absl::StatusOr<std::vector<ImageInfo>> GrpcCriClient::ListImages() {
  pb::ListImagesRequest req;
  pb::ListImagesResponse resp;
  absl::Status s =
      impl_->Invoke("ListImages", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->image().ListImages(c, req, &resp);
                    });
  if (!s.ok()) return s;
  std::vector<ImageInfo> out;
  for (const auto& img : resp.images()) out.push_back(FromProto(img));
  return out;
}

absl::Status GrpcCriClient::RemoveImage(std::string_view image) {
  pb::RemoveImageRequest req;
  req.mutable_image()->set_image(std::string(image));
  pb::RemoveImageResponse resp;
  absl::Status s =
      impl_->Invoke("RemoveImage", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->image().RemoveImage(c, req, &resp);
                    });
  return NotFoundIsOk(s);
}

absl::StatusOr<std::vector<FilesystemUsage>> GrpcCriClient::ImageFsInfo() {
  pb::ImageFsInfoRequest req;
  pb::ImageFsInfoResponse resp;
  absl::Status s =
      impl_->Invoke("ImageFsInfo", true, impl_->options().request_timeout,
                    [&](grpc::ClientContext* c) {
                      return impl_->image().ImageFsInfo(c, req, &resp);
                    });
  if (!s.ok()) return s;
  std::vector<FilesystemUsage> out;
  for (const auto& fs : resp.image_filesystems()) {
    out.push_back(FilesystemUsage{fs.fs_id().mountpoint(),
                                  fs.used_bytes().value(),
                                  fs.inodes_used().value(), fs.timestamp()});
  }
  return out;
}

}  // namespace zun::cri
