// File: mapper.h
// Maps a capsule to CRI sandbox and container configs (our cri/ domain
// types). Pure functions: no I/O, no clock; thread-safe.
//
// Validation happens first (ValidateCapsule): a capsule that fails it must
// not touch the runtime. Every error is INVALID_ARGUMENT with a message a
// user can act on, naming the container and field, e.g.
//   "container 'web': memory '-5' is not a non-negative number of MiB".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "capsule/model.h"
#include "cri/types.h"

namespace zun::capsule {

struct MapperOptions {
  std::string host;                           // [DEFAULT] host
  std::string sandbox_namespace = "default";  // CRI metadata namespace
  std::string log_root = "/var/log/zun/pods";
  // cgroup_parent of a pod is <cgroup_root>/pod<uuid>; "" lets the runtime
  // choose.
  std::string cgroup_root = "/zun";
  std::string default_runtime = "runc";  // [DEFAULT] container_runtime
  // Zun runtime name -> CRI runtime handler ("" = runtime default).
  std::map<std::string, std::string> runtime_handlers = {{"runc", ""}};
  bool allow_privileged = false;  // [compute] allow_privileged
  // "runtime/default", "unconfined" or "localhost/<profile>".
  std::string seccomp_profile = "runtime/default";
  // Host directories under which volume host paths may live.
  std::vector<std::string> host_path_allowlist;
  cri::DnsConfig dns;
  std::map<std::string, std::string> sysctls;
  int64_t cpu_period_us = 100000;
  double max_cpu = 1024;                     // vCPUs
  int64_t max_memory_mib = 4 * 1024 * 1024;  // 4 TiB
};

// Checks everything about `capsule` that could make the runtime fail or do
// something unsafe. INVALID_ARGUMENT on the first problem.
absl::Status ValidateCapsule(const Capsule& capsule, const MapperOptions& opts);

// The CRI runtime handler for the capsule: capsule.runtime or the default,
// through the handler map. INVALID_ARGUMENT for an unknown runtime.
absl::StatusOr<std::string> RuntimeHandlerFor(const Capsule& capsule,
                                              const MapperOptions& opts);

// The ownership labels of the capsule's sandbox (labels.h).
cri::Labels SandboxOwnerLabels(const std::string& host,
                               const std::string& capsule_uuid);

// The pod log directory of the capsule (absolute).
std::string LogDirectoryFor(const Capsule& capsule, const MapperOptions& opts);
// The pod cgroup of the capsule, or "" when cgroup_root is "".
std::string CgroupParentFor(const Capsule& capsule, const MapperOptions& opts);
// The CRI metadata name of a child container (unique within the capsule).
std::string ContainerNameFor(const ContainerRecord& child);

absl::StatusOr<cri::PodSandboxConfig> BuildSandboxConfig(
    const Capsule& capsule, const MapperOptions& opts, uint32_t attempt);

// `image_ref` is what PullImage/ImageStatus returned for the child's image.
absl::StatusOr<cri::ContainerConfig> BuildContainerConfig(
    const Capsule& capsule, const ContainerRecord& child,
    const MapperOptions& opts, const std::string& image_ref, uint32_t attempt);

// Parsed resource requests of a container (validated).
struct Resources {
  double cpu = 0;          // vCPUs, 0 = unlimited
  int64_t memory_mib = 0;  // 0 = unlimited
};
absl::StatusOr<Resources> ParseResources(const ContainerRecord& c,
                                         const MapperOptions& opts);
cri::LinuxResources ToLinuxResources(const Resources& r,
                                     const MapperOptions& opts);

}  // namespace zun::capsule
