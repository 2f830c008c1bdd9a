// File: cri_client.h
// `CriClient` is zun-agent's only door to the container runtime: the CRI
// RuntimeService and ImageService calls a node agent needs, in our own types
// (cri/types.h). Implementations: GrpcCriClient (containerd or fake-cri over a
// unix socket) and FakeCriClient (in-process, for unit tests).
//
// Contract shared by every method:
// - Each call carries a deadline: the client's request timeout, or the longer
//   image-pull / sandbox-create timeouts where noted. DEADLINE_EXCEEDED when
//   it passes; the operation may still complete in the runtime.
// - Status codes are the runtime's gRPC codes (they equal absl codes), with
//   containerd's quirks normalised as documented per method.
// - UNAVAILABLE means the runtime could not be reached; idempotent calls were
//   already retried with capped backoff before it is returned.
// - Thread-safe: any number of threads may call concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cri/pod_listing.h"
#include "cri/types.h"

namespace zun::cri {

class CriClient {
 public:
  virtual ~CriClient() = default;

  // --- RuntimeService ---

  // Runtime name/version and the CRI API version it serves. Idempotent.
  virtual absl::StatusOr<VersionInfo> Version() = 0;
  // Runtime conditions (RuntimeReady, NetworkReady) and runtime handlers.
  virtual absl::StatusOr<RuntimeStatusInfo> Status() = 0;

  // Creates and starts a sandbox; returns its id. Uses the sandbox-create
  // timeout. Not retried. If a previous attempt with the same metadata timed
  // out and still holds the name ("failed to reserve sandbox name"), the
  // existing sandbox is adopted when READY (its id is returned); a NOTREADY
  // one is removed and ABORTED is returned so the caller retries with a new
  // attempt; if none is visible yet, UNAVAILABLE.
  virtual absl::StatusOr<std::string> RunPodSandbox(
      const PodSandboxConfig& config, std::string_view runtime_handler) = 0;
  // Stops the sandbox and every container in it. Idempotent: NOT_FOUND is OK.
  virtual absl::Status StopPodSandbox(std::string_view sandbox_id) = 0;
  // Removes a stopped sandbox and its containers. Idempotent.
  virtual absl::Status RemovePodSandbox(std::string_view sandbox_id) = 0;
  // NOT_FOUND if the sandbox does not exist.
  virtual absl::StatusOr<SandboxStatusInfo> PodSandboxStatus(
      std::string_view sandbox_id) = 0;
  virtual absl::StatusOr<std::vector<SandboxInfo>> ListPodSandbox(
      const SandboxFilter& filter) = 0;

  // Creates a container in a sandbox; returns its id. NOT_FOUND if the image
  // or sandbox is missing. Not retried.
  virtual absl::StatusOr<std::string> CreateContainer(
      std::string_view sandbox_id, const ContainerConfig& config,
      const PodSandboxConfig& sandbox_config) = 0;
  virtual absl::Status StartContainer(std::string_view container_id) = 0;
  // Sends the stop signal, waits `grace`, then kills. Idempotent: NOT_FOUND
  // is OK. The deadline is the request timeout plus `grace`.
  virtual absl::Status StopContainer(std::string_view container_id,
                                     absl::Duration grace) = 0;
  // Idempotent: NOT_FOUND is OK.
  virtual absl::Status RemoveContainer(std::string_view container_id) = 0;
  // Has the runtime create the container's log file again, after a
  // rotation moved it. NOT_FOUND for an unknown container; an error, and no
  // file, unless the container runs. Not retried.
  virtual absl::Status ReopenContainerLog(std::string_view container_id) = 0;
  virtual absl::StatusOr<std::vector<ContainerInfo>> ListContainers(
      const ContainerFilter& filter) = 0;
  // The sandboxes `sandboxes` matches, then the containers `containers`
  // matches (two list calls, each retried as a read), compactly for a
  // periodic relist: ids, state, attempt, creation time and the values of
  // each filter's keep.label_keys (PodListing; keep.details is ignored).
  // INVALID_ARGUMENT for more than kListedLabels keys; INTERNAL for an
  // answer that is not a list; the first call's error stops the second.
  virtual absl::StatusOr<PodListing> ListPods(
      const SandboxFilter& sandboxes, const ContainerFilter& containers) = 0;
  // NOT_FOUND if the container does not exist.
  virtual absl::StatusOr<ContainerStatusInfo> ContainerStatus(
      std::string_view container_id) = 0;
  virtual absl::Status UpdateContainerResources(
      std::string_view container_id, const LinuxResources& resources) = 0;
  // Runs `cmd` in the container and waits up to `timeout`.
  virtual absl::StatusOr<ExecResult> ExecSync(
      std::string_view container_id, const std::vector<std::string>& cmd,
      absl::Duration timeout) = 0;
  virtual absl::StatusOr<ContainerStatsInfo> ContainerStats(
      std::string_view container_id) = 0;
  virtual absl::StatusOr<std::vector<ContainerStatsInfo>> ListContainerStats(
      const Labels& labels) = 0;
  // Usage of the pods whose labels include `labels` (each with its
  // containers'). Retried (a read).
  virtual absl::StatusOr<std::vector<SandboxStatsInfo>> ListPodSandboxStats(
      const Labels& labels) = 0;

  // --- ImageService ---

  // The image if present, nullopt if absent (containerd answers OK with an
  // empty image for a missing one).
  virtual absl::StatusOr<std::optional<ImageInfo>> ImageStatus(
      std::string_view image) = 0;
  // Pulls `image`; returns the image reference to run (digest or id). Uses
  // the image-pull timeout. `sandbox` may be null.
  virtual absl::StatusOr<std::string> PullImage(
      std::string_view image, const std::optional<AuthConfig>& auth,
      const PodSandboxConfig* sandbox) = 0;
  virtual absl::StatusOr<std::vector<ImageInfo>> ListImages() = 0;
  // Idempotent: removing a missing image is OK.
  virtual absl::Status RemoveImage(std::string_view image) = 0;
  virtual absl::StatusOr<std::vector<FilesystemUsage>> ImageFsInfo() = 0;
};

using CriClientPtr = std::unique_ptr<CriClient>;

}  // namespace zun::cri
