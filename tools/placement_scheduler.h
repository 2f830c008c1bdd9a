// File: placement_scheduler.h
// How zun-capsule places a capsule, the way zun-api's scheduler does
// (filter scheduler over Placement):
//  1. resources: VCPU = max(1, ceil(cpu, or [DEFAULT] default_cpu 1.0)),
//     MEMORY_MB = max(1, memory MiB, or default_memory 512), DISK_GB = disk
//     when set;
//  2. GET /allocation_candidates for them, forbidding
//     CUSTOM_ZUN_COMPUTE_STATUS_DISABLED;
//  3. keep the candidates whose provider is the compute_node of a host with
//     an up, enabled zun-compute service (ApiStore::SchedulableHosts);
//  4. claim PUT /allocations/<capsule uuid> on one of them, chosen at
//     random; on a conflict (capacity taken meanwhile) the next one, up to
//     four tries.
// With `host` set, only that host's provider is considered (an admin's
// placement hint).
//
// Errors: RESOURCE_EXHAUSTED "There are not enough hosts available." when
// no host fits (the reason Zun writes on the capsule); those of Placement
// and the database otherwise. Stateless; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "capsule/model.h"
#include "db/api_store.h"
#include "openstack/placement.h"

namespace zun::tools {

inline constexpr char kNoValidHost[] = "There are not enough hosts available.";

// What the capsule asks of a host, as Zun's scheduler computes it.
openstack::Resources ResourcesFor(const capsule::Capsule& capsule);

struct ScheduleRequest {
  std::string consumer;  // the capsule uuid
  std::string project_id;
  std::string user_id;
  openstack::Resources resources;
  std::string host;  // empty: any host
  absl::Duration service_down_time = absl::Seconds(180);
};

// The host the capsule was claimed on.
absl::StatusOr<std::string> ScheduleCapsule(
    openstack::PlacementClient& placement, db::ApiStore& api,
    const ScheduleRequest& request);

}  // namespace zun::tools
