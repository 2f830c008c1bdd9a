#include "cri/fake_runtime.h"

#include <arpa/inet.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace zun::cri::fake {

namespace {

// The options' range; an invalid one (fake-cri validates its flag first)
// falls back to the default loopback range rather than to routed addresses.
PodAddressRange PodRangeOrDefault(const std::string& cidr) {
  absl::StatusOr<PodAddressRange> r = PodAddressRange::Parse(cidr);
  if (r.ok()) return *r;
  return *PodAddressRange::Parse(FakeRuntimeOptions().pod_cidr);
}

}  // namespace

absl::StatusOr<PodAddressRange> PodAddressRange::Parse(
    const std::string& cidr) {
  const size_t slash = cidr.find('/');
  int len = 0;
  in_addr addr{};
  if (slash == std::string::npos ||
      !absl::SimpleAtoi(cidr.substr(slash + 1), &len) || len < 8 || len > 30 ||
      inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pod CIDR ", cidr, " is not an IPv4 a.b.c.d/len with len 8 to 30"));
  }
  const uint32_t size = uint32_t{1} << (32 - len);
  const uint32_t base = ntohl(addr.s_addr) & ~(size - 1);
  return PodAddressRange(base, size);
}

std::string PodAddressRange::At(uint64_t n) const {
  // Hosts base+2 .. base+size-2: not the network, the first host or the
  // broadcast address.
  const uint32_t a = base_ + 2 + static_cast<uint32_t>(n % (size_ - 3));
  return absl::StrCat(a >> 24, ".", (a >> 16) & 255, ".", (a >> 8) & 255, ".",
                      a & 255);
}

FakeRuntime::FakeRuntime(Clock& clock, FakeRuntimeOptions options)
    : clock_(clock),
      options_(std::move(options)),
      rng_(options_.seed),
      pod_range_(PodRangeOrDefault(options_.pod_cidr)) {
  absl::MutexLock l(&mu_);
  for (const auto& img : options_.preloaded_images) {
    AddImageLocked(NormalizeImage(img));
  }
}

int64_t FakeRuntime::NowNanos() { return absl::ToUnixNanos(clock_.Now()); }

std::string FakeRuntime::NewIdLocked() {
  char buf[65];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf + 16 * i, 17, "%016llx",
                  static_cast<unsigned long long>(rng_()));
  }
  return std::string(buf, 64);
}

VersionInfo FakeRuntime::Version() {
  return VersionInfo{"0.1.0", options_.runtime_name, options_.runtime_version,
                     options_.runtime_api_version};
}

RuntimeStatusInfo FakeRuntime::Status() {
  RuntimeStatusInfo s;
  s.conditions = {{"RuntimeReady", true, "", ""},
                  {"NetworkReady", true, "", ""}};
  for (const auto& h : options_.runtime_handlers) {
    s.handlers.push_back(RuntimeHandlerInfo{h, false, false});
  }
  return s;
}

absl::StatusOr<std::string> FakeRuntime::RunPodSandbox(
    const PodSandboxConfig& config, const std::string& handler,
    absl::Duration create_time) {
  bool known_handler = handler.empty();
  for (const auto& h : options_.runtime_handlers) known_handler |= h == handler;
  if (!known_handler) {
    return absl::UnknownError(
        absl::StrCat("failed to get sandbox runtime: no runtime for \"",
                     handler, "\" is configured"));
  }
  const std::string key = absl::StrCat(config.name, "_", config.namespace_, "_",
                                       config.uid, "_", config.attempt);
  std::string id;
  {
    absl::MutexLock l(&mu_);
    if (auto it = sandbox_names_.find(key); it != sandbox_names_.end()) {
      return absl::UnknownError(
          absl::StrCat("failed to reserve sandbox name \"", key,
                       "\": name is reserved for \"", it->second, "\""));
    }
    id = NewIdLocked();
    sandbox_names_[key] = id;
  }
  if (create_time > absl::ZeroDuration()) clock_.SleepFor(create_time);
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  if (!sandbox_names_.count(key)) {
    return absl::UnknownError("sandbox creation interrupted by a restart");
  }
  Sandbox sb;
  sb.info.id = id;
  sb.info.name = config.name;
  sb.info.uid = config.uid;
  sb.info.namespace_ = config.namespace_;
  sb.info.attempt = config.attempt;
  sb.info.state = SandboxState::kReady;
  sb.info.created_at = now;
  sb.info.labels = config.labels;
  sb.info.annotations = config.annotations;
  sb.info.runtime_handler = handler;
  sb.config = config;
  if (config.namespaces.network != NamespaceMode::kNode) {
    sb.ip = pod_range_.At(next_ip_++);
  }
  for (const auto& label : config.labels) sandboxes_by_label_[label].insert(id);
  sandboxes_.emplace(id, std::move(sb));
  return id;
}

FakeRuntime::Sandbox* FakeRuntime::FindSandboxLocked(const std::string& id) {
  auto it = sandboxes_.find(id);
  if (it != sandboxes_.end()) return &it->second;
  // containerd accepts a unique id prefix.
  if (id.size() >= 4) {
    auto lb = sandboxes_.lower_bound(id);
    if (lb != sandboxes_.end() && absl::StartsWith(lb->first, id)) {
      auto next = std::next(lb);
      if (next == sandboxes_.end() || !absl::StartsWith(next->first, id)) {
        return &lb->second;
      }
    }
  }
  return nullptr;
}

FakeRuntime::Container* FakeRuntime::FindContainerLocked(
    const std::string& id) {
  auto it = containers_.find(id);
  if (it != containers_.end()) return &it->second;
  if (id.size() >= 4) {
    auto lb = containers_.lower_bound(id);
    if (lb != containers_.end() && absl::StartsWith(lb->first, id)) {
      auto next = std::next(lb);
      if (next == containers_.end() || !absl::StartsWith(next->first, id)) {
        return &lb->second;
      }
    }
  }
  return nullptr;
}

void FakeRuntime::KillLocked(Container& c, int64_t now, int exit_code) {
  if (c.status.state == ContainerState::kRunning) {
    c.status.state = ContainerState::kExited;
    c.status.finished_at = now;
    c.status.exit_code = exit_code;
    c.status.reason = exit_code == 0 ? "Completed" : "Error";
  } else if (c.status.state == ContainerState::kCreated) {
    c.status.state = ContainerState::kExited;
    c.status.finished_at = now;
    c.status.exit_code = 0;
    c.status.reason = "Unknown";
  }
}

void FakeRuntime::RefreshLocked(Container& c, int64_t now) {
  if (c.status.state != ContainerState::kRunning) return;
  WriteLogsLocked(c, now);  // every line is due by the exit
  if (!c.script.exit_after) return;
  const int64_t due =
      c.status.started_at + absl::ToInt64Nanoseconds(*c.script.exit_after);
  if (now < due) return;
  c.status.state = ContainerState::kExited;
  c.status.finished_at = due;
  c.status.exit_code = c.script.exit_code;
  c.status.reason = c.script.oom              ? "OOMKilled"
                    : c.script.exit_code == 0 ? "Completed"
                                              : "Error";
}

absl::Status FakeRuntime::StopPodSandbox(const std::string& id) {
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  Sandbox* sb = FindSandboxLocked(id);
  if (sb == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "an error occurred when try to find sandbox \"", id, "\": not found"));
  }
  for (const auto& cid : sb->containers) {
    Container& c = containers_.at(cid);
    RefreshLocked(c, now);
    KillLocked(c, now, 137);
  }
  sb->info.state = SandboxState::kNotReady;
  return absl::OkStatus();
}

absl::Status FakeRuntime::RemovePodSandbox(const std::string& id) {
  absl::MutexLock l(&mu_);
  Sandbox* sb = FindSandboxLocked(id);
  if (sb == nullptr) return absl::OkStatus();
  for (const auto& cid : sb->containers) {
    Container& c = containers_.at(cid);
    container_names_.erase(
        absl::StrCat(sb->info.id, "/", c.status.name, "_", c.status.attempt));
    containers_.erase(cid);
  }
  sandbox_names_.erase(absl::StrCat(sb->info.name, "_", sb->info.namespace_,
                                    "_", sb->info.uid, "_", sb->info.attempt));
  for (const auto& label : sb->info.labels) {
    auto it = sandboxes_by_label_.find(label);
    if (it == sandboxes_by_label_.end()) continue;
    it->second.erase(sb->info.id);
    if (it->second.empty()) sandboxes_by_label_.erase(it);
  }
  sandboxes_.erase(sb->info.id);
  return absl::OkStatus();
}

absl::StatusOr<SandboxStatusInfo> FakeRuntime::PodSandboxStatus(
    const std::string& id) {
  absl::MutexLock l(&mu_);
  Sandbox* sb = FindSandboxLocked(id);
  if (sb == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "an error occurred when try to find sandbox \"", id, "\": not found"));
  }
  SandboxStatusInfo st;
  st.sandbox = sb->info;
  st.ip = sb->info.state == SandboxState::kReady ? sb->ip : "";
  st.namespaces = sb->config.namespaces;
  return st;
}

absl::StatusOr<std::string> FakeRuntime::CreateContainer(
    const std::string& sandbox_id, const ContainerConfig& config) {
  absl::StatusOr<Script> script = ScriptOf(config);
  if (!script.ok())
    return absl::InvalidArgumentError(script.status().message());
  if (script->create_fail) {
    return absl::UnknownError(
        "failed to create containerd container: scripted");
  }
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  Sandbox* sb = FindSandboxLocked(sandbox_id);
  if (sb == nullptr) {
    return absl::NotFoundError(absl::StrCat("failed to find sandbox id \"",
                                            sandbox_id, "\": not found"));
  }
  if (sb->info.state != SandboxState::kReady) {
    return absl::UnknownError(
        absl::StrCat("sandbox \"", sandbox_id, "\" is not running"));
  }
  if (config.privileged && !sb->config.privileged) {
    return absl::UnknownError(
        "failed to generate container spec: no privileged container allowed "
        "in sandbox");
  }
  const ImageInfo* img = FindImageLocked(config.image);
  if (img == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("failed to get image \"", config.image, "\": not found"));
  }
  const std::string key =
      absl::StrCat(sb->info.id, "/", config.name, "_", config.attempt);
  if (auto it = container_names_.find(key); it != container_names_.end()) {
    return absl::UnknownError(
        absl::StrCat("failed to reserve container name \"", key,
                     "\": name is reserved for \"", it->second, "\""));
  }
  Container c;
  c.status.id = NewIdLocked();
  c.status.name = config.name;
  c.status.attempt = config.attempt;
  c.status.state = ContainerState::kCreated;
  c.status.created_at = now;
  c.status.image = config.image;
  c.status.image_ref = img->id;
  c.status.labels = config.labels;
  c.status.annotations = config.annotations;
  c.status.log_path =
      config.log_path.empty()
          ? ""
          : absl::StrCat(sb->config.log_directory, "/", config.log_path);
  c.status.mounts = config.mounts;
  c.status.resources = config.resources;
  c.sandbox_id = sb->info.id;
  c.config = config;
  c.script = *script;
  const std::string id = c.status.id;
  container_names_[key] = id;
  sb->containers.insert(id);
  containers_.emplace(id, std::move(c));
  return id;
}

absl::Status FakeRuntime::StartContainer(const std::string& id) {
  const int64_t now = NowNanos();
  auto not_found = [&id] {
    return absl::NotFoundError(
        absl::StrCat("an error occurred when try to find container \"", id,
                     "\": not found"));
  };
  auto not_created = [&id](ContainerState state) {
    return absl::UnknownError(absl::StrCat("container \"", id, "\" is in ",
                                           ToString(state),
                                           " state, not CONTAINER_CREATED"));
  };
  std::string log_file;
  {
    absl::MutexLock l(&mu_);
    Container* c = FindContainerLocked(id);
    if (c == nullptr) return not_found();
    if (c->status.state != ContainerState::kCreated) {
      return not_created(c->status.state);
    }
    if (c->script.start_fail) {
      c->status.state = ContainerState::kExited;
      c->status.finished_at = now;
      c->status.exit_code = 128;
      c->status.reason = "StartError";
      return absl::UnknownError("failed to start containerd task: scripted");
    }
    const Sandbox* sb = FindSandboxLocked(c->sandbox_id);
    if (sb != nullptr && !sb->config.log_directory.empty() &&
        !c->config.log_path.empty()) {
      log_file = sb->config.log_directory + "/" + c->config.log_path;
    }
  }
  // As containerd, the log file (and its directory) is created when the
  // container starts; outside the runtime's lock, so that starts (and every
  // other call) do not queue behind the filesystem.
  if (!log_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(
        std::filesystem::path(log_file).parent_path(), ec);
    std::ofstream touch(log_file, std::ios::app);
  }
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) return not_found();  // removed meanwhile
  // Another start of the same container won the race.
  if (c->status.state != ContainerState::kCreated) {
    return not_created(c->status.state);
  }
  c->status.state = ContainerState::kRunning;
  c->status.started_at = now;
  c->log_file = log_file;
  WriteLogsLocked(*c, now);
  return absl::OkStatus();
}

absl::Status FakeRuntime::StopContainer(const std::string& id,
                                        int64_t timeout_s) {
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("an error occurred when try to find container \"", id,
                     "\": not found"));
  }
  RefreshLocked(*c, now);
  if (c->status.state == ContainerState::kRunning) {
    // Pods share their PID namespace (the pause process is PID 1), so a
    // workload ends on SIGTERM (143); one scripted to ignore it is killed
    // (137) once the grace period is over.
    const bool ignores = c->script.ignore_sigterm;
    const int64_t end = ignores ? now + timeout_s * 1000000000 : now;
    KillLocked(*c, end, ignores ? 137 : 143);
  }
  return absl::OkStatus();
}

absl::Status FakeRuntime::RemoveContainer(const std::string& id) {
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) return absl::OkStatus();
  if (c->status.state == ContainerState::kRunning) {
    KillLocked(*c, NowNanos(), 137);
  }
  auto sb = sandboxes_.find(c->sandbox_id);
  if (sb != sandboxes_.end()) sb->second.containers.erase(c->status.id);
  container_names_.erase(
      absl::StrCat(c->sandbox_id, "/", c->status.name, "_", c->status.attempt));
  containers_.erase(c->status.id);
  return absl::OkStatus();
}

absl::StatusOr<ContainerStatusInfo> FakeRuntime::ContainerStatus(
    const std::string& id) {
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("an error occurred when try to find container \"", id,
                     "\": not found"));
  }
  RefreshLocked(*c, now);
  return c->status;
}

absl::Status FakeRuntime::UpdateContainerResources(
    const std::string& id, const LinuxResources& resources) {
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("container \"", id, "\" not found"));
  }
  c->config.resources = resources;
  c->status.resources = resources;  // reported as containerd 1.7 does
  return absl::OkStatus();
}

absl::StatusOr<ExecResult> FakeRuntime::ExecSync(
    const std::string& id, const std::vector<std::string>& cmd) {
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("container \"", id, "\" not found"));
  }
  RefreshLocked(*c, now);
  if (c->status.state != ContainerState::kRunning) {
    return absl::UnknownError(
        absl::StrCat("container \"", id, "\" is not running"));
  }
  ExecResult r;
  if (cmd.empty()) return absl::InvalidArgumentError("empty command");
  if (cmd[0] == "env") {
    for (const auto& [k, v] : c->config.envs) {
      absl::StrAppend(&r.stdout_data, k, "=", v, "\n");
    }
  } else if (cmd[0] == "pwd") {
    r.stdout_data =
        (c->config.working_dir.empty() ? "/" : c->config.working_dir) +
        std::string("\n");
  } else if (cmd[0] == "echo") {
    // As busybox's echo: a leading -n drops the newline.
    const bool newline = !(cmd.size() > 1 && cmd[1] == "-n");
    std::vector<std::string> rest(cmd.begin() + (newline ? 1 : 2), cmd.end());
    r.stdout_data = absl::StrJoin(rest, " ") + (newline ? "\n" : "");
  } else if (cmd[0] == "id" && cmd.size() == 2 &&
             (cmd[1] == "-u" || cmd[1] == "-un")) {
    // The user the container runs as: run_as_user, else the image
    // config's user, else root.
    std::optional<int64_t> uid = c->config.run_as_user;
    std::string name;
    if (!uid) {
      if (const ImageInfo* img = FindImageLocked(c->status.image_ref)) {
        uid = img->uid;
        name = img->username;
      }
    }
    if (cmd[1] == "-u") {
      r.stdout_data = absl::StrCat(uid.value_or(name.empty() ? 0 : 1000), "\n");
    } else {
      r.stdout_data =
          (name.empty() ? (uid.value_or(0) == 0 ? std::string("root")
                                                : absl::StrCat(*uid))
                        : name) +
          "\n";
    }
  } else if (cmd[0] == "false") {
    r.exit_code = 1;
  } else if (cmd[0] != "true") {
    r.stderr_data = absl::StrCat(cmd[0], ": not found\n");
    r.exit_code = 127;
  }
  return r;
}

void FakeRuntime::ForgetAllPods() {
  absl::MutexLock l(&mu_);
  sandboxes_.clear();
  sandboxes_by_label_.clear();
  containers_.clear();
  sandbox_names_.clear();
  container_names_.clear();
}

absl::StatusOr<ContainerConfig> FakeRuntime::ContainerConfigOf(
    const std::string& id) {
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) return absl::NotFoundError(id);
  return c->config;
}

absl::StatusOr<PodSandboxConfig> FakeRuntime::SandboxConfigOf(
    const std::string& id) {
  absl::MutexLock l(&mu_);
  Sandbox* sb = FindSandboxLocked(id);
  if (sb == nullptr) return absl::NotFoundError(id);
  return sb->config;
}

int FakeRuntime::NumSandboxes() {
  absl::MutexLock l(&mu_);
  return static_cast<int>(sandboxes_.size());
}

int FakeRuntime::NumContainers() {
  absl::MutexLock l(&mu_);
  return static_cast<int>(containers_.size());
}

}  // namespace zun::cri::fake
