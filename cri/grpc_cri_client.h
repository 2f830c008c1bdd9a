// File: grpc_cri_client.h
// CriClient over gRPC to a CRI runtime (containerd, fake-cri) on unix
// sockets. Separate runtime and image endpoints; a deadline on every call;
// capped-backoff retries on UNAVAILABLE for idempotent calls only. gRPC
// reconnects by itself when the socket goes away and comes back (reconnect
// backoff is capped at `max_reconnect_backoff`).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "cri/cri_client.h"
#include "cri/endpoint.h"  // IWYU pragma: export

namespace zun::cri {

struct GrpcCriOptions {
  std::string runtime_endpoint;  // "unix:///run/containerd/containerd.sock"
  std::string image_endpoint;    // empty: same as runtime_endpoint
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration image_pull_timeout = absl::Minutes(5);
  absl::Duration sandbox_create_timeout = absl::Minutes(4);
  // Retries of idempotent calls on UNAVAILABLE.
  int max_attempts = 4;
  BackoffPolicy retry_backoff{absl::Milliseconds(50), absl::Seconds(1), 2.0,
                              0.2};
  absl::Duration max_reconnect_backoff = absl::Seconds(1);
  // Called after every RPC attempt (method name, latency, result code), e.g.
  // to feed metrics. Must be thread-safe and fast.
  std::function<void(std::string_view, absl::Duration, absl::StatusCode)>
      on_call;
};

// Thread-safe (see CriClient).
class GrpcCriClient final : public CriClient {
 public:
  // Validates the endpoints and creates the channels; does not connect.
  static absl::StatusOr<std::unique_ptr<GrpcCriClient>> Create(
      GrpcCriOptions options, Clock& clock);
  ~GrpcCriClient() override;

  // Calls Version and refuses a runtime that does not serve CRI runtime.v1:
  // FAILED_PRECONDITION with a message naming what it serves; UNIMPLEMENTED
  // from the server (no runtime.v1 service) is reported the same way.
  absl::StatusOr<VersionInfo> Handshake();

  // CriClient
  absl::StatusOr<VersionInfo> Version() override;
  absl::StatusOr<RuntimeStatusInfo> Status() override;
  absl::StatusOr<std::string> RunPodSandbox(
      const PodSandboxConfig& config,
      std::string_view runtime_handler) override;
  absl::Status StopPodSandbox(std::string_view sandbox_id) override;
  absl::Status RemovePodSandbox(std::string_view sandbox_id) override;
  absl::StatusOr<SandboxStatusInfo> PodSandboxStatus(
      std::string_view sandbox_id) override;
  absl::StatusOr<std::vector<SandboxInfo>> ListPodSandbox(
      const SandboxFilter& filter) override;
  absl::StatusOr<std::string> CreateContainer(
      std::string_view sandbox_id, const ContainerConfig& config,
      const PodSandboxConfig& sandbox_config) override;
  absl::Status StartContainer(std::string_view container_id) override;
  absl::Status ReopenContainerLog(std::string_view container_id) override;
  absl::Status StopContainer(std::string_view container_id,
                             absl::Duration grace) override;
  absl::Status RemoveContainer(std::string_view container_id) override;
  absl::StatusOr<std::vector<ContainerInfo>> ListContainers(
      const ContainerFilter& filter) override;
  absl::StatusOr<PodListing> ListPods(
      const SandboxFilter& sandboxes,
      const ContainerFilter& containers) override;
  absl::StatusOr<ContainerStatusInfo> ContainerStatus(
      std::string_view container_id) override;
  absl::Status UpdateContainerResources(
      std::string_view container_id, const LinuxResources& resources) override;
  absl::StatusOr<ExecResult> ExecSync(std::string_view container_id,
                                      const std::vector<std::string>& cmd,
                                      absl::Duration timeout) override;
  absl::StatusOr<ContainerStatsInfo> ContainerStats(
      std::string_view container_id) override;
  absl::StatusOr<std::vector<ContainerStatsInfo>> ListContainerStats(
      const Labels& labels) override;
  absl::StatusOr<std::vector<SandboxStatsInfo>> ListPodSandboxStats(
      const Labels& labels) override;
  absl::StatusOr<std::optional<ImageInfo>> ImageStatus(
      std::string_view image) override;
  absl::StatusOr<std::string> PullImage(
      std::string_view image, const std::optional<AuthConfig>& auth,
      const PodSandboxConfig* sandbox) override;
  absl::StatusOr<std::vector<ImageInfo>> ListImages() override;
  absl::Status RemoveImage(std::string_view image) override;
  absl::StatusOr<std::vector<FilesystemUsage>> ImageFsInfo() override;

 private:
  class Impl;
  explicit GrpcCriClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zun::cri
