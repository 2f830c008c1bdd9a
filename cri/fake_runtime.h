// File: fake_runtime.h
// An in-memory CRI runtime with containerd 1.6's state machine and raw
// answers (NOT_FOUND from StopPodSandbox of an unknown id, an empty image
// from ImageStatus, "failed to reserve ... name" for duplicates), so tests on
// it predict containerd. Served over gRPC by FakeCriService (the fake-cri
// binary and in-process tests) and wrapped for in-process unit tests by
// FakeCriClient.
//
// Sandboxes: READY after RunPodSandbox, NOTREADY after StopPodSandbox (which
// kills every container). Containers: CREATED -> RUNNING -> EXITED; exits
// follow the container's script (fake_script.h), evaluated lazily against
// the injected clock, so a SimulatedClock decides when a workload exits.
// Ids are 64 hex digits drawn from a seeded generator: the same seed and the
// same calls give the same ids.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "cri/fake_script.h"
#include "cri/types.h"

namespace zun::cri::fake {

struct FakeRuntimeOptions {
  uint64_t seed = 1;
  std::string runtime_name = "fake-cri";
  std::string runtime_version = "0.1.0";
  std::string runtime_api_version = "v1";
  std::vector<std::string> runtime_handlers = {"runc"};
  // Images present at start (as if imported).
  std::vector<std::string> preloaded_images = {"localhost/pause:3.6"};
  // Where pod IPs come from: an IPv4 CIDR (prefix length 8 to 30). The
  // default is a loopback subrange, so that a client connecting to a pod
  // IP of the fake never sends traffic off the machine.
  std::string pod_cidr = "127.88.0.0/16";
  // The user of an image's config, by repository ("127.0.0.1:5000/app" ->
  // "1002" or "www-data"); ImageStatus reports it as uid or username.
  std::map<std::string, std::string> image_users;
};

// True if every label of `want` is in `have` with the same value.
bool LabelsMatch(const Labels& have, const Labels& want);

// An IPv4 range that pod addresses are handed out from, in order, skipping
// the network address, the first host (a gateway's) and the broadcast.
// Immutable; safe to share across threads.
class PodAddressRange {
 public:
  // InvalidArgument unless `cidr` is "a.b.c.d/len" with len in [8, 30].
  static absl::StatusOr<PodAddressRange> Parse(const std::string& cidr);
  // The n-th address (wrapping around the range).
  std::string At(uint64_t n) const;

 private:
  PodAddressRange(uint32_t base, uint32_t size) : base_(base), size_(size) {}
  uint32_t base_;  // network address, host order
  uint32_t size_;  // addresses in the range
};

class FakeRuntime {
 public:
  FakeRuntime(Clock& clock, FakeRuntimeOptions options);

  VersionInfo Version();
  RuntimeStatusInfo Status();
  // Reserves the name at once, then takes `create_time` to create the
  // sandbox (as containerd does, so a retry meanwhile gets "failed to reserve
  // sandbox name" while the sandbox is not listed yet).
  absl::StatusOr<std::string> RunPodSandbox(
      const PodSandboxConfig& config, const std::string& handler,
      absl::Duration create_time = absl::ZeroDuration());
  absl::Status StopPodSandbox(const std::string& id);
  absl::Status RemovePodSandbox(const std::string& id);
  absl::StatusOr<SandboxStatusInfo> PodSandboxStatus(const std::string& id);
  // Lists in id order. A page holds at most `limit` matches, all with ids
  // after `after` (""): a server takes a long list page by page, so that
  // other calls get the runtime between pages instead of waiting for the
  // whole list (2,000 containers hold it for milliseconds). Each page is
  // consistent; an item created or removed between two pages may show or
  // not, as with two list calls.
  std::vector<SandboxInfo> ListPodSandbox(const SandboxFilter& filter,
                                          const std::string& after = "",
                                          size_t limit = SIZE_MAX);
  // One item as a list visit sees it, under the runtime's lock. Every field
  // but the state is fixed once the item exists (CRI changes none of
  // them), so a server may encode them once: `wire` is kept with the item
  // for that encoding, empty until the server fills it (FakeCriService);
  // the runtime never reads it.
  template <class Info, class State>
  struct Listed {
    const std::string& id;
    State state;
    absl::FunctionRef<Info()> info;  // the whole item, built on demand
    std::string& wire;
  };
  using ListedSandbox = Listed<SandboxInfo, SandboxState>;
  using ListedContainer = Listed<ContainerInfo, ContainerState>;
  // ListPodSandbox and ListContainers without the copies: `visit` runs for
  // each item of the page, in id order, under the runtime's lock (it must
  // not call the runtime). Returns the page's size.
  size_t VisitPodSandboxes(const SandboxFilter& filter,
                           const std::string& after, size_t limit,
                           absl::FunctionRef<void(const ListedSandbox&)> visit);
  size_t VisitContainers(const ContainerFilter& filter,
                         const std::string& after, size_t limit,
                         absl::FunctionRef<void(const ListedContainer&)> visit);
  absl::StatusOr<std::string> CreateContainer(const std::string& sandbox_id,
                                              const ContainerConfig& config);
  absl::Status StartContainer(const std::string& id);
  absl::Status StopContainer(const std::string& id, int64_t timeout_s);
  absl::Status RemoveContainer(const std::string& id);
  std::vector<ContainerInfo> ListContainers(const ContainerFilter& filter,
                                            const std::string& after = "",
                                            size_t limit = SIZE_MAX);
  absl::StatusOr<ContainerStatusInfo> ContainerStatus(const std::string& id);
  absl::Status UpdateContainerResources(const std::string& id,
                                        const LinuxResources& resources);
  absl::StatusOr<ExecResult> ExecSync(const std::string& id,
                                      const std::vector<std::string>& cmd);
  // Creates the container's log file again (after a rotation moved it).
  // NOT_FOUND for an unknown container; UNKNOWN, and no file, unless it
  // runs.
  absl::Status ReopenContainerLog(const std::string& id);
  absl::StatusOr<ContainerStatsInfo> ContainerStats(const std::string& id);
  std::vector<ContainerStatsInfo> ListContainerStats(const Labels& labels);
  // The pods whose id is `id` ("" for any) and whose labels include
  // `labels`.
  std::vector<SandboxStatsInfo> ListPodSandboxStats(const std::string& id,
                                                    const Labels& labels);
  // Absent image: an ImageInfo with an empty id (containerd's answer).
  ImageInfo ImageStatus(const std::string& image);
  absl::StatusOr<std::string> PullImage(const std::string& image,
                                        const AuthConfig* auth);
  std::vector<ImageInfo> ListImages();
  absl::Status RemoveImage(const std::string& image);
  std::vector<FilesystemUsage> ImageFsInfo();

  // --- Control (tests, fake-cri control flags) ---
  // Forgets every sandbox and container (a runtime restart that loses
  // state); images are kept.
  void ForgetAllPods();
  // The config a container was created with (for mapping assertions).
  absl::StatusOr<ContainerConfig> ContainerConfigOf(const std::string& id);
  absl::StatusOr<PodSandboxConfig> SandboxConfigOf(const std::string& id);
  // Credentials last used to pull `image` (nullopt if pulled without).
  std::optional<AuthConfig> LastPullAuth(const std::string& image);
  int NumSandboxes();
  int NumContainers();
  int64_t PullCount(const std::string& image);
  // "app" -> "docker.io/library/app" (a repository, without tag or digest),
  // the key of FakeRuntimeOptions::image_users.
  static std::string NormalizeRepository(const std::string& repo);

 private:
  struct Sandbox {
    SandboxInfo info;
    PodSandboxConfig config;
    std::string ip;
    std::set<std::string> containers;
    std::string list_wire;  // ListedSandbox::wire
  };
  struct Container {
    ContainerStatusInfo status;
    std::string sandbox_id;
    ContainerConfig config;
    Script script;
    // The CRI log file (sandbox log_directory + log_path; "" for none) and
    // how many of the script's output lines are in it.
    std::string log_file;
    size_t log_lines_written = 0;
    std::string list_wire;  // ListedContainer::wire
  };

  // containerd-style reference normalisation ("busybox" ->
  // "docker.io/library/busybox:latest").
  static std::string NormalizeImage(const std::string& image);
  // A digest for `what` ("sha256:" and 64 hex digits).
  static std::string Digest(const std::string& what);
  // Records the normalised reference `ref` (by tag or by digest) and
  // returns its image: one image per repository (fake-cri's model of
  // content: every tag and digest of a repository names the same image).
  ImageInfo& AddImageLocked(const std::string& ref)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The image an id, a reference (any form) or a digest names; null if none.
  ImageInfo* FindImageLocked(const std::string& image)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewIdLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t NowNanos();
  // Applies scripted exits that are due at `now`.
  // Appends to the log file, in the CRI format, the output lines due by
  // `now` (lines are written when the container starts and whenever its
  // state is refreshed).
  void WriteLogsLocked(Container& c, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshLocked(Container& c, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void KillLocked(Container& c, int64_t now, int exit_code)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Container* FindContainerLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Sandbox* FindSandboxLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const FakeRuntimeOptions options_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ip_ ABSL_GUARDED_BY(mu_) = 0;
  const PodAddressRange pod_range_;
  std::map<std::string, Sandbox> sandboxes_ ABSL_GUARDED_BY(mu_);
  // (label key, value) -> ids of the sandboxes carrying it: a list by
  // labels (the agent's, on every create) looks at those only.
  std::map<std::pair<std::string, std::string>, std::set<std::string>>
      sandboxes_by_label_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Container> containers_ ABSL_GUARDED_BY(mu_);
  // Reserved names: "name_namespace_uid_attempt" -> sandbox id, and
  // "sandboxid/name_attempt" -> container id.
  std::map<std::string, std::string> sandbox_names_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> container_names_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ImageInfo> images_ ABSL_GUARDED_BY(mu_);  // by id
  // Every tag and digest reference -> image id.
  std::map<std::string, std::string> image_refs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> pull_counts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::optional<AuthConfig>> pull_auth_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::cri::fake
