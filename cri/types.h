// File: types.h
// zun-agent's own vocabulary for the container runtime: plain structs that
// mirror the parts of CRI runtime.v1 the agent uses. Everything outside cri/
// speaks these types; no runtime::v1 protobuf type leaves cri/, so the rest of
// the agent does not depend on the CRI version or on generated code.
//
// Times are CRI's: nanoseconds since the Unix epoch (0 = not reached).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zun::cri {

using Labels = std::map<std::string, std::string, std::less<>>;

struct VersionInfo {
  std::string version;              // CRI version the runtime reports
  std::string runtime_name;         // e.g. "containerd"
  std::string runtime_version;      // e.g. "1.6.20~ds1"
  std::string runtime_api_version;  // must be "v1" (or start with "v1")
};

struct RuntimeCondition {
  std::string type;  // "RuntimeReady", "NetworkReady"
  bool status = false;
  std::string reason;
  std::string message;
};

struct RuntimeHandlerInfo {
  std::string name;  // "" is the default handler
  bool recursive_read_only = false;
  bool user_namespaces = false;
};

struct RuntimeStatusInfo {
  std::vector<RuntimeCondition> conditions;
  std::vector<RuntimeHandlerInfo> handlers;  // empty on containerd 1.6
  // Value of a condition, or nullopt if the runtime did not report it.
  std::optional<bool> Condition(const std::string& type) const {
    for (const auto& c : conditions) {
      if (c.type == type) return c.status;
    }
    return std::nullopt;
  }
};

enum class Protocol { kTcp = 0, kUdp = 1, kSctp = 2 };

struct PortMapping {
  Protocol protocol = Protocol::kTcp;
  int32_t container_port = 0;
  int32_t host_port = 0;  // 0: not exposed on the host
  std::string host_ip;
};

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
  bool empty() const {
    return servers.empty() && searches.empty() && options.empty();
  }
};

enum class NamespaceMode { kPod = 0, kContainer = 1, kNode = 2, kTarget = 3 };

struct NamespaceOptions {
  NamespaceMode network = NamespaceMode::kPod;
  NamespaceMode pid = NamespaceMode::kPod;
  NamespaceMode ipc = NamespaceMode::kPod;
  std::string target_id;
};

struct SecurityProfile {
  enum class Type { kRuntimeDefault = 0, kUnconfined = 1, kLocalhost = 2 };
  Type type = Type::kRuntimeDefault;
  std::string localhost_ref;  // profile path for kLocalhost
};

// Linux resources of a container (or a pod's overhead/resources).
struct LinuxResources {
  int64_t cpu_period = 0;             // CFS period in us; 0 = runtime default
  int64_t cpu_quota = 0;              // CFS quota in us; 0 = unlimited
  int64_t cpu_shares = 0;             // relative weight; 0 = runtime default
  int64_t memory_limit_in_bytes = 0;  // 0 = unlimited
  int64_t oom_score_adj = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  bool empty() const {
    return cpu_period == 0 && cpu_quota == 0 && cpu_shares == 0 &&
           memory_limit_in_bytes == 0 && oom_score_adj == 0 &&
           cpuset_cpus.empty() && cpuset_mems.empty();
  }
};

struct PodSandboxConfig {
  // Metadata: (name, uid, namespace, attempt) identify a sandbox to the
  // runtime; containerd refuses a second one with the same four.
  std::string name;
  std::string uid;
  std::string namespace_;
  uint32_t attempt = 0;

  std::string hostname;       // must stay empty for host-network pods
  std::string log_directory;  // absolute; container log paths are relative
  DnsConfig dns;
  std::vector<PortMapping> port_mappings;
  Labels labels;
  Labels annotations;

  // Linux.
  std::string cgroup_parent;
  std::map<std::string, std::string> sysctls;
  NamespaceOptions namespaces;
  bool privileged = false;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  bool readonly_rootfs = false;
  std::vector<int64_t> supplemental_groups;
  std::optional<SecurityProfile> seccomp;
  LinuxResources overhead;
  LinuxResources resources;
};

enum class MountPropagation {
  kPrivate = 0,
  kHostToContainer = 1,
  kBidirectional = 2
};

struct Mount {
  std::string container_path;
  std::string host_path;
  bool readonly = false;
  bool selinux_relabel = false;
  MountPropagation propagation = MountPropagation::kPrivate;
};

struct ContainerConfig {
  std::string name;
  uint32_t attempt = 0;
  std::string image;                 // image reference or id to run
  std::vector<std::string> command;  // replaces the image ENTRYPOINT
  std::vector<std::string> args;     // replaces the image CMD
  std::string working_dir;
  std::vector<std::pair<std::string, std::string>> envs;
  std::vector<Mount> mounts;
  Labels labels;
  Labels annotations;
  std::string log_path;  // relative to the sandbox log_directory
  bool stdin_open = false;
  bool stdin_once = false;
  bool tty = false;

  // Linux.
  LinuxResources resources;
  bool privileged = false;
  std::optional<SecurityProfile> seccomp;
  bool readonly_rootfs = false;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  bool no_new_privs = false;
  std::vector<std::string> add_capabilities;
  std::vector<std::string> drop_capabilities;
};

enum class SandboxState { kReady = 0, kNotReady = 1 };

struct SandboxInfo {
  std::string id;
  std::string name;
  std::string uid;
  std::string namespace_;
  uint32_t attempt = 0;
  SandboxState state = SandboxState::kNotReady;
  int64_t created_at = 0;
  Labels labels;
  Labels annotations;
  std::string runtime_handler;
};

struct SandboxStatusInfo {
  SandboxInfo sandbox;
  std::string ip;  // primary pod IP, "" if none
  std::vector<std::string> additional_ips;
  NamespaceOptions namespaces;
};

enum class ContainerState {
  kCreated = 0,
  kRunning = 1,
  kExited = 2,
  kUnknown = 3
};

struct ContainerInfo {
  std::string id;
  std::string sandbox_id;
  std::string name;
  uint32_t attempt = 0;
  std::string image;
  std::string image_ref;
  ContainerState state = ContainerState::kUnknown;
  int64_t created_at = 0;
  Labels labels;
  Labels annotations;
};

struct ContainerStatusInfo {
  std::string id;
  std::string name;
  uint32_t attempt = 0;
  ContainerState state = ContainerState::kUnknown;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int32_t exit_code = 0;
  std::string image;
  std::string image_ref;
  std::string reason;  // "Completed", "Error", "OOMKilled", ...
  std::string message;
  Labels labels;
  Labels annotations;
  std::string log_path;
  std::vector<Mount> mounts;  // the config's
  // The resources in force, if the runtime reports them (containerd 1.7
  // does, 1.6 does not).
  std::optional<LinuxResources> resources;
};

// Which parts of each listed item a caller reads. The client applies it
// (it is not sent to the runtime): a relist of thousands of items copies
// only what it keys on, not every label and annotation.
struct ListProjection {
  // Empty: every label. Else only these labels are kept.
  std::vector<std::string> label_keys;
  // False: names, uid, namespace, images, runtime handler and annotations
  // are left empty; ids, attempt, state and creation time are kept.
  bool details = true;
};

// Empty fields match everything; every label in `labels` must match.
// `keep` trims the results (see ListProjection).
struct SandboxFilter {
  std::string id;
  std::optional<SandboxState> state;
  Labels labels;
  ListProjection keep;
};

struct ContainerFilter {
  std::string id;
  std::string sandbox_id;
  std::optional<ContainerState> state;
  Labels labels;
  ListProjection keep;
};

// Trims a listed item to `keep` (for clients that hold the whole item).
void Project(const ListProjection& keep, SandboxInfo& info);
void Project(const ListProjection& keep, ContainerInfo& info);

struct AuthConfig {
  std::string username;
  std::string password;
  std::string auth;  // base64 "user:password"
  std::string server_address;
  std::string identity_token;
  std::string registry_token;
};

struct ImageInfo {
  std::string id;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  uint64_t size = 0;
  bool pinned = false;
  // The image config's user: a uid, or a name to resolve in the image.
  std::optional<int64_t> uid;
  std::string username;
};

struct ExecResult {
  std::string stdout_data;
  std::string stderr_data;
  int32_t exit_code = 0;
};

struct ContainerStatsInfo {
  std::string id;
  std::string name;
  Labels labels;
  int64_t timestamp = 0;
  uint64_t cpu_usage_core_nanoseconds = 0;
  uint64_t memory_working_set_bytes = 0;
  uint64_t writable_layer_used_bytes = 0;
};

// One pod's resource usage (ListPodSandboxStats): its containers' sum, its
// processes and its default network interface.
struct SandboxStatsInfo {
  std::string id;
  std::string name;
  std::string uid;
  std::string namespace_;
  Labels labels;
  Labels annotations;
  int64_t timestamp = 0;
  uint64_t cpu_usage_core_nanoseconds = 0;
  uint64_t memory_working_set_bytes = 0;
  std::string interface_name;  // default interface; "" if none reported
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t process_count = 0;
  std::vector<ContainerStatsInfo> containers;
};

struct FilesystemUsage {
  std::string mountpoint;
  uint64_t used_bytes = 0;
  uint64_t inodes_used = 0;
  int64_t timestamp = 0;
};

const char* ToString(ContainerState s);
const char* ToString(SandboxState s);

}  // namespace zun::cri
