// File: fake_cri_client.h
// CriClient over an in-process FakeRuntime, for unit tests of the agent
// without gRPC. Applies the same quirk normalisation as GrpcCriClient
// (cri/quirks.h), so code under test sees the CriClient contract exactly.
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "cri/cri_client.h"
#include "cri/fake_runtime.h"

namespace zun::cri::fake {

class FakeCriClient final : public CriClient {
 public:
  explicit FakeCriClient(FakeRuntime& runtime) : rt_(runtime) {}

  // How many times each method was called, by name (Version and Status
  // are not counted), for tests that hold the agent to its runtime calls.
  std::map<std::string, int> CallCounts() const;
  // Called with the method's name at the start of every counted call, on
  // the calling thread, before the runtime serves it (tests hold a call
  // until another one came). Set it before the calls it should see.
  void SetCallHook(std::function<void(std::string_view method)> hook);

  // CriClient
  absl::StatusOr<VersionInfo> Version() override { return rt_.Version(); }
  absl::StatusOr<RuntimeStatusInfo> Status() override { return rt_.Status(); }
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
  // Counted (and hooked) as its two calls.
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
  void Count(const char* method);

  FakeRuntime& rt_;
  mutable absl::Mutex mu_;
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  std::function<void(std::string_view)> hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::cri::fake
