// The image service of the fake runtime (FakeRuntime's members that
// manage images and pulls; the pod and container side is fake_runtime.cc).
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cri/fake_runtime.h"

namespace zun::cri::fake {

// containerd-style normalisation: "busybox" ->
// "docker.io/library/busybox:latest".
std::string FakeRuntime::NormalizeImage(const std::string& image) {
  if (absl::StartsWith(image, "sha256:")) return image;
  std::string ref = image;
  size_t slash = ref.find('/');
  std::string first = slash == std::string::npos ? "" : ref.substr(0, slash);
  const bool has_domain =
      slash != std::string::npos &&
      (absl::StrContains(first, ".") || absl::StrContains(first, ":") ||
       first == "localhost");
  if (!has_domain) {
    ref = slash == std::string::npos ? "docker.io/library/" + ref
                                     : "docker.io/" + ref;
  }
  const size_t last_slash = ref.rfind('/');
  const bool has_tag = ref.find(':', last_slash) != std::string::npos ||
                       absl::StrContains(ref, "@");
  if (!has_tag) ref += ":latest";
  return ref;
}

std::string FakeRuntime::ImageId(const std::string& ref) {
  uint64_t h = 1469598103934665603ull;
  for (char c : ref) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(h));
  return absl::StrCat("sha256:", buf, buf, buf, buf);
}

ImageInfo FakeRuntime::ImageStatus(const std::string& image) {
  absl::MutexLock l(&mu_);
  auto it = images_.find(NormalizeImage(image));
  if (it != images_.end()) return it->second;
  for (const auto& [ref, info] : images_) {
    if (info.id == image) return info;
  }
  return ImageInfo{};
}

absl::StatusOr<std::string> FakeRuntime::PullImage(const std::string& image,
                                                   const AuthConfig* auth) {
  const ImageBehaviour b = ImageBehaviourOf(image);
  if (b.pull_latency > absl::ZeroDuration()) clock_.SleepFor(b.pull_latency);
  const std::string ref = NormalizeImage(image);
  absl::MutexLock l(&mu_);
  ++pull_counts_[ref];
  pull_auth_[ref] = auth ? std::optional<AuthConfig>(*auth) : std::nullopt;
  if (b.not_found) {
    return absl::UnknownError(absl::StrCat("failed to pull and unpack image \"",
                                           ref,
                                           "\": failed to resolve "
                                           "reference \"",
                                           ref, "\": ", ref, ": not found"));
  }
  if (b.pull_fails) {
    return absl::UnknownError(absl::StrCat(
        "failed to pull and unpack image \"", ref,
        "\": failed to copy: httpReadSeeker: failed open: unexpected status "
        "code 500 Internal Server Error"));
  }
  ImageInfo& info = images_[ref];
  info.id = ImageId(ref);
  info.repo_tags = {ref};
  info.repo_digests = {
      absl::StrCat(ref.substr(0, ref.rfind(':')), "@", info.id)};
  info.size = 2 << 20;
  return info.id;
}

std::vector<ImageInfo> FakeRuntime::ListImages() {
  absl::MutexLock l(&mu_);
  std::vector<ImageInfo> out;
  for (const auto& [ref, info] : images_) out.push_back(info);
  return out;
}

absl::Status FakeRuntime::RemoveImage(const std::string& image) {
  absl::MutexLock l(&mu_);
  images_.erase(NormalizeImage(image));
  for (auto it = images_.begin(); it != images_.end();) {
    it = it->second.id == image ? images_.erase(it) : std::next(it);
  }
  return absl::OkStatus();
}

std::vector<FilesystemUsage> FakeRuntime::ImageFsInfo() {
  absl::MutexLock l(&mu_);
  uint64_t used = 0;
  for (const auto& [ref, info] : images_) used += info.size;
  return {FilesystemUsage{"/var/lib/fake-cri/images", used,
                          static_cast<uint64_t>(images_.size()), NowNanos()}};
}

std::optional<AuthConfig> FakeRuntime::LastPullAuth(const std::string& image) {
  absl::MutexLock l(&mu_);
  auto it = pull_auth_.find(NormalizeImage(image));
  return it == pull_auth_.end() ? std::nullopt : it->second;
}

int64_t FakeRuntime::PullCount(const std::string& image) {
  absl::MutexLock l(&mu_);
  auto it = pull_counts_.find(NormalizeImage(image));
  return it == pull_counts_.end() ? 0 : it->second;
}

}  // namespace zun::cri::fake
