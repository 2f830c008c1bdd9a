// File: model.h
// The capsule domain model: one `ContainerRecord` per row of Zun's
// `container` table (capsules, capsule containers and capsule init containers
// are all rows there, told apart by `container_type`), and a `Capsule` that
// groups a capsule row with its children in the order Zun starts them
// (`id` ascending). Field names and meanings are Zun's (ContainerBase,
// zun/objects/container.py); see docs/db-contract.md.
//
// Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace zun::capsule {

enum class ContainerType {
  kContainer = 0,
  kCapsule = 1,
  kCapsuleContainer = 2,
  kCapsuleInitContainer = 3,
};

// A volume mounted into one capsule container (from Zun's volume_mapping and
// volume rows, resolved to a host path by the agent's volume rules).
struct VolumeMount {
  std::string container_path;
  std::string host_path;  // resolved by the agent (see OpsOptions)
  bool read_only = false;
  std::string volume_uuid;
  std::string provider;  // "local", "cinder"
};

using StringMap = std::map<std::string, std::string>;

struct ContainerRecord {
  int64_t id = 0;
  ContainerType container_type = ContainerType::kCapsule;
  std::optional<int64_t> capsule_id;  // children: the capsule's `id`
  std::string uuid;

  std::optional<std::string> container_id;  // CRI sandbox / container id
  std::optional<std::string> name;
  std::optional<std::string> project_id;
  std::optional<std::string> user_id;
  std::optional<std::string> image;
  std::optional<double> cpu;  // vCPUs
  std::optional<std::string> cpu_policy;
  std::optional<std::string> memory;  // MiB, decimal string
  std::vector<std::string> command;   // Zun: command + args merged
  std::vector<std::string> entrypoint;
  std::optional<std::string> status;
  std::optional<std::string> status_reason;
  std::optional<std::string> status_detail;
  std::optional<std::string> task_state;
  StringMap environment;
  std::optional<std::string> workdir;
  std::vector<int64_t> ports;
  std::optional<std::string> hostname;
  StringMap labels;
  std::optional<std::string> image_pull_policy;
  std::optional<std::string> host;
  StringMap restart_policy;  // {"Name": ..., "MaximumRetryCount": "<n>"}
  bool interactive = false;
  bool tty = false;
  bool privileged = false;
  bool auto_remove = false;
  bool auto_heal = false;
  std::optional<std::string> image_driver;
  std::optional<std::string> websocket_url;
  std::optional<std::string> websocket_token;
  std::vector<std::string> security_groups;
  std::optional<std::string> runtime;
  std::optional<int64_t> disk;
  std::optional<int64_t> registry_id;
  // JsonField columns: null means None.
  nlohmann::json addresses;
  nlohmann::json exposed_ports;
  nlohmann::json healthcheck;
  nlohmann::json annotations;
  nlohmann::json cni_metadata;
  nlohmann::json cpuset;  // {"cpuset_cpus": [...], "cpuset_mems": [...]}
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> created_at;
  std::optional<absl::Time> updated_at;

  // Volumes of a capsule container (not a column; loaded with the capsule).
  std::vector<VolumeMount> volumes;
};

// Private registry credentials of a container image (Zun's `registry` row).
struct RegistryCredentials {
  std::string domain;
  std::string username;
  std::string password;
};

struct Capsule {
  ContainerRecord record;                        // container_type = kCapsule
  std::vector<ContainerRecord> init_containers;  // type 3, by id
  std::vector<ContainerRecord> containers;       // type 2, by id
  // Credentials by registry_id, for children that name a registry.
  std::map<int64_t, RegistryCredentials> registries;

  const std::string& uuid() const { return record.uuid; }
};

}  // namespace zun::capsule
