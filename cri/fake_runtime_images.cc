// The image service of the fake runtime (FakeRuntime's members that
// manage images and pulls; the pod and container side is fake_runtime.cc).
#include <algorithm>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
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

std::string FakeRuntime::Digest(const std::string& what) {
  uint64_t h = 1469598103934665603ull;
  for (char c : what) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(h));
  return absl::StrCat("sha256:", buf, buf, buf, buf);
}

namespace {

// "repo:tag" or "repo@sha256:..." (normalised) -> repo.
std::string RepositoryOf(const std::string& ref) {
  const size_t at = ref.find('@');
  if (at != std::string::npos) return ref.substr(0, at);
  const size_t colon = ref.rfind(':');
  const size_t slash = ref.rfind('/');
  return colon != std::string::npos &&
                 (slash == std::string::npos || colon > slash)
             ? ref.substr(0, colon)
             : ref;
}

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

std::string FakeRuntime::NormalizeRepository(const std::string& repo) {
  return RepositoryOf(NormalizeImage(repo));
}

ImageInfo& FakeRuntime::AddImageLocked(const std::string& ref) {
  const std::string repo = RepositoryOf(ref);
  const std::string id = Digest("config:" + repo);
  ImageInfo& info = images_[id];
  info.id = id;
  info.size = 2 << 20;
  if (absl::StrContains(ref, "@")) {
    AddUnique(info.repo_digests, ref);
  } else {
    // A pull by tag also records the manifest's digest, as containerd does.
    AddUnique(info.repo_tags, ref);
    const std::string by_digest =
        absl::StrCat(repo, "@", Digest("manifest:" + repo));
    AddUnique(info.repo_digests, by_digest);
    image_refs_[by_digest] = id;
  }
  image_refs_[ref] = id;
  if (auto u = options_.image_users.find(repo);
      u != options_.image_users.end()) {
    int64_t uid = 0;
    if (absl::SimpleAtoi(u->second, &uid)) {
      info.uid = uid;
    } else {
      info.username = u->second;
    }
  }
  return info;
}

ImageInfo* FakeRuntime::FindImageLocked(const std::string& image) {
  if (auto it = images_.find(image); it != images_.end()) return &it->second;
  auto ref = image_refs_.find(NormalizeImage(image));
  if (ref == image_refs_.end()) return nullptr;
  auto it = images_.find(ref->second);
  return it == images_.end() ? nullptr : &it->second;
}

ImageInfo FakeRuntime::ImageStatus(const std::string& image) {
  absl::MutexLock l(&mu_);
  ImageInfo* info = FindImageLocked(image);
  return info != nullptr ? *info : ImageInfo{};
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
  return AddImageLocked(ref).id;
}

std::vector<ImageInfo> FakeRuntime::ListImages() {
  absl::MutexLock l(&mu_);
  std::vector<ImageInfo> out;
  for (const auto& [id, info] : images_) out.push_back(info);
  return out;
}

// As containerd: the image goes with every reference to it.
absl::Status FakeRuntime::RemoveImage(const std::string& image) {
  absl::MutexLock l(&mu_);
  ImageInfo* info = FindImageLocked(image);
  if (info == nullptr) return absl::OkStatus();
  const std::string id = info->id;
  for (auto it = image_refs_.begin(); it != image_refs_.end();) {
    it = it->second == id ? image_refs_.erase(it) : std::next(it);
  }
  images_.erase(id);
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
