#include "cri/fake_cri_client.h"

#include "cri/quirks.h"

namespace zun::cri::fake {

void FakeCriClient::Count(const char* method) {
  std::function<void(std::string_view)> hook;
  {
    absl::MutexLock l(&mu_);
    ++calls_[method];
    hook = hook_;
  }
  if (hook) hook(method);
}

void FakeCriClient::SetCallHook(
    std::function<void(std::string_view method)> hook) {
  absl::MutexLock l(&mu_);
  hook_ = std::move(hook);
}

std::map<std::string, int> FakeCriClient::CallCounts() const {
  absl::MutexLock l(&mu_);
  return calls_;
}

absl::StatusOr<std::string> FakeCriClient::RunPodSandbox(
    const PodSandboxConfig& config, std::string_view runtime_handler) {
  Count("RunPodSandbox");
  absl::StatusOr<std::string> id =
      rt_.RunPodSandbox(config, std::string(runtime_handler));
  if (IsSandboxNameReserved(id.status())) {
    return RecoverReservedSandbox(*this, config, id.status());
  }
  return id;
}

absl::Status FakeCriClient::StopPodSandbox(std::string_view sandbox_id) {
  Count("StopPodSandbox");
  return NotFoundIsOk(rt_.StopPodSandbox(std::string(sandbox_id)));
}

absl::Status FakeCriClient::RemovePodSandbox(std::string_view sandbox_id) {
  Count("RemovePodSandbox");
  return NotFoundIsOk(rt_.RemovePodSandbox(std::string(sandbox_id)));
}

absl::StatusOr<SandboxStatusInfo> FakeCriClient::PodSandboxStatus(
    std::string_view sandbox_id) {
  Count("PodSandboxStatus");
  return rt_.PodSandboxStatus(std::string(sandbox_id));
}

absl::StatusOr<std::vector<SandboxInfo>> FakeCriClient::ListPodSandbox(
    const SandboxFilter& filter) {
  Count("ListPodSandbox");
  std::vector<SandboxInfo> out = rt_.ListPodSandbox(filter);
  for (SandboxInfo& info : out) Project(filter.keep, info);
  return out;
}

absl::StatusOr<std::string> FakeCriClient::CreateContainer(
    std::string_view sandbox_id, const ContainerConfig& config,
    const PodSandboxConfig&) {
  Count("CreateContainer");
  return rt_.CreateContainer(std::string(sandbox_id), config);
}

absl::Status FakeCriClient::StartContainer(std::string_view container_id) {
  Count("StartContainer");
  return rt_.StartContainer(std::string(container_id));
}

absl::Status FakeCriClient::ReopenContainerLog(std::string_view container_id) {
  Count("ReopenContainerLog");
  return rt_.ReopenContainerLog(std::string(container_id));
}

absl::Status FakeCriClient::StopContainer(std::string_view container_id,
                                          absl::Duration grace) {
  Count("StopContainer");
  return NotFoundIsOk(rt_.StopContainer(std::string(container_id),
                                        absl::ToInt64Seconds(grace)));
}

absl::Status FakeCriClient::RemoveContainer(std::string_view container_id) {
  Count("RemoveContainer");
  return NotFoundIsOk(rt_.RemoveContainer(std::string(container_id)));
}

absl::StatusOr<std::vector<ContainerInfo>> FakeCriClient::ListContainers(
    const ContainerFilter& filter) {
  Count("ListContainers");
  std::vector<ContainerInfo> out = rt_.ListContainers(filter);
  for (ContainerInfo& info : out) Project(filter.keep, info);
  return out;
}

absl::StatusOr<PodListing> FakeCriClient::ListPods(
    const SandboxFilter& sandboxes, const ContainerFilter& containers) {
  if (absl::Status s = CheckListPodsArgs(sandboxes, containers); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<SandboxInfo>> sb = ListPodSandbox(sandboxes);
  if (!sb.ok()) return sb.status();
  absl::StatusOr<std::vector<ContainerInfo>> c = ListContainers(containers);
  if (!c.ok()) return c.status();
  return MakePodListing(*sb, sandboxes.keep.label_keys, *c,
                        containers.keep.label_keys);
}

absl::StatusOr<ContainerStatusInfo> FakeCriClient::ContainerStatus(
    std::string_view container_id) {
  Count("ContainerStatus");
  return rt_.ContainerStatus(std::string(container_id));
}

absl::Status FakeCriClient::UpdateContainerResources(
    std::string_view container_id, const LinuxResources& resources) {
  Count("UpdateContainerResources");
  return rt_.UpdateContainerResources(std::string(container_id), resources);
}

absl::StatusOr<ExecResult> FakeCriClient::ExecSync(
    std::string_view container_id, const std::vector<std::string>& cmd,
    absl::Duration) {
  Count("ExecSync");
  return rt_.ExecSync(std::string(container_id), cmd);
}

absl::StatusOr<ContainerStatsInfo> FakeCriClient::ContainerStats(
    std::string_view container_id) {
  Count("ContainerStats");
  return rt_.ContainerStats(std::string(container_id));
}

absl::StatusOr<std::vector<ContainerStatsInfo>>
FakeCriClient::ListContainerStats(const Labels& labels) {
  Count("ListContainerStats");
  return rt_.ListContainerStats(labels);
}

absl::StatusOr<std::vector<SandboxStatsInfo>>
FakeCriClient::ListPodSandboxStats(const Labels& labels) {
  Count("ListPodSandboxStats");
  return rt_.ListPodSandboxStats("", labels);
}

absl::StatusOr<std::optional<ImageInfo>> FakeCriClient::ImageStatus(
    std::string_view image) {
  Count("ImageStatus");
  ImageInfo info = rt_.ImageStatus(std::string(image));
  if (info.id.empty()) return std::nullopt;
  return info;
}

absl::StatusOr<std::string> FakeCriClient::PullImage(
    std::string_view image, const std::optional<AuthConfig>& auth,
    const PodSandboxConfig*) {
  Count("PullImage");
  return rt_.PullImage(std::string(image), auth ? &*auth : nullptr);
}

absl::StatusOr<std::vector<ImageInfo>> FakeCriClient::ListImages() {
  Count("ListImages");
  return rt_.ListImages();
}

absl::Status FakeCriClient::RemoveImage(std::string_view image) {
  Count("RemoveImage");
  return NotFoundIsOk(rt_.RemoveImage(std::string(image)));
}

absl::StatusOr<std::vector<FilesystemUsage>> FakeCriClient::ImageFsInfo() {
  Count("ImageFsInfo");
  return rt_.ImageFsInfo();
}

}  // namespace zun::cri::fake
