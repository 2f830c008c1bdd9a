// File: placement_reporter.h
// This node as an OpenStack Placement resource provider, the way
// zun-compute reports it, so Zun's scheduler can place capsules here:
//  - the root provider is compute_node.rp_uuid, named after the host;
//    created when Placement has none. If another provider holds the name,
//    it is adopted only with [compute] host_shared_with_nova (on_adopt then
//    hands its uuid to whoever writes compute_node); otherwise that is an
//    error the operator must resolve.
//  - VCPU, MEMORY_MB and DISK_GB inventory: totals of the host, reserved
//    amounts from [compute] reserved_host_*, allocation ratios from
//    [compute] *_allocation_ratio, else the provider's current ratio, else
//    initial_*_allocation_ratio; pushed when they differ from Placement's.
//  - CUSTOM_ZUN_COMPUTE_STATUS_DISABLED while the zun_service row is
//    disabled, removed when it is not.
//  - Generation conflicts (409) re-read and retry, up to
//    max_conflict_retries times per pass.
//  - Release(consumer) deletes a capsule's allocations (deleted, failed or
//    refused capsules); kept and retried until Placement confirms.
//  - At start and every refresh_interval (every lost_create_grace when
//    lost creates are recovered, if shorter) the provider is healed:
//    allocations against it whose consumer has no container row any more are
//    released (never with host_shared_with_nova: another service's consumers
//    would look the same); a capsule that the scheduler placed here (an
//    allocation on this provider) but whose row is still Creating without a
//    host after lost_create_grace lost its container_create cast:
//    on_lost_create creates it.
// While Placement (or Keystone) is unreachable, passes repeat with capped
// backoff and the agent keeps serving; health() and counters() say so.
//
// Runs on its own loop thread; Update/Release never block. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/event_loop.h"
#include "db/capsule_store.h"
#include "openstack/placement.h"

namespace zun::node {

// What the node offers, as NodeReporter sees it.
struct NodeResources {
  std::string rp_uuid;  // compute_node.rp_uuid
  std::string name;     // the host
  int64_t vcpus = 0;
  int64_t memory_mb = 0;
  int64_t disk_gb = 0;
  bool disabled = false;  // zun_service.disabled

  bool operator==(const NodeResources&) const = default;
};

struct PlacementReporterOptions {
  std::optional<double> cpu_allocation_ratio;
  std::optional<double> ram_allocation_ratio;
  std::optional<double> disk_allocation_ratio;
  double initial_cpu_allocation_ratio = 16.0;
  double initial_ram_allocation_ratio = 1.5;
  double initial_disk_allocation_ratio = 1.0;
  int64_t reserved_host_cpus = 0;
  int64_t reserved_host_memory_mb = 512;
  int64_t reserved_host_disk_mb = 0;
  bool host_shared_with_nova = false;
  absl::Duration refresh_interval = absl::Minutes(5);
  // How old a placed, unclaimed capsule must be to count as a lost cast.
  absl::Duration lost_create_grace = absl::Seconds(60);
  int max_conflict_retries = 4;
  BackoffPolicy retry{absl::Seconds(1), absl::Minutes(1), 2.0, 0.2};
};

// The inventory to report for `node`; `current` is Placement's (for the
// allocation ratios nobody configured). Classes with a zero total are left
// out (Placement refuses them); reserved never exceeds the total.
openstack::Inventories DesiredInventories(
    const NodeResources& node, const PlacementReporterOptions& options,
    const openstack::Inventories& current);

class PlacementReporter {
 public:
  // The container rows of those `consumers` that have one (any host).
  using ConsumerRows = std::function<
      absl::StatusOr<std::map<std::string, db::CapsuleStore::ContainerBrief>>(
          const std::vector<std::string>& consumers)>;
  // Called with the uuid of an adopted provider (host_shared_with_nova).
  using OnAdopt = std::function<void(const std::string& rp_uuid)>;
  // Called with a capsule whose create cast never arrived. Must not block.
  using OnLostCreate = std::function<void(const std::string& uuid)>;

  PlacementReporter(openstack::PlacementClient& placement, Clock& clock,
                    PlacementReporterOptions options, ConsumerRows rows,
                    OnAdopt on_adopt = nullptr,
                    OnLostCreate on_lost_create = nullptr);
  ~PlacementReporter();

  void Start();
  void Stop();

  // The node's current resources; pushed at once if they changed.
  void Update(NodeResources node);
  // Queues the release of `consumer`'s allocations.
  void Release(const std::string& consumer);

  // One pass of each duty on the caller's thread (the loop runs these;
  // tests call them directly).
  absl::Status SyncOnce();
  absl::Status ReleasePending();
  absl::Status Heal();

  struct Health {
    bool ok = false;    // the last pass succeeded
    std::string error;  // why not
    absl::Time last_ok = absl::InfinitePast();
    size_t pending_releases = 0;
    std::string rp_uuid;  // the provider reported
  };
  Health health();
  // For /healthz: OK, or why the last pass failed.
  absl::Status Check();

  struct Counters {
    uint64_t passes_ok = 0;
    uint64_t passes_failed = 0;
    uint64_t conflicts = 0;  // 409s retried
    uint64_t inventory_updates = 0;
    uint64_t trait_updates = 0;
    uint64_t allocations_released = 0;
    uint64_t allocations_healed = 0;  // released by Heal
    uint64_t lost_creates = 0;        // handed to on_lost_create
  };
  Counters counters();

 private:
  void Pass();
  void ScheduleNext(absl::Duration d);
  absl::Duration HealInterval() const;
  absl::Status EnsureProvider(NodeResources& node);
  absl::Status SyncInventory(const NodeResources& node);
  absl::Status SyncTraits(const NodeResources& node);

  openstack::PlacementClient& placement_;
  Clock& clock_;
  const PlacementReporterOptions options_;
  const ConsumerRows rows_;
  const OnAdopt on_adopt_;
  const OnLostCreate on_lost_create_;
  EventLoop loop_;
  Backoff backoff_;                              // loop thread only
  std::optional<EventLoop::TimerId> next_pass_;  // loop thread only

  absl::Mutex mu_;
  std::optional<NodeResources> node_ ABSL_GUARDED_BY(mu_);
  // The state Placement was last brought to, and when.
  std::optional<NodeResources> synced_ ABSL_GUARDED_BY(mu_);
  absl::Time synced_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time healed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool trait_created_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> releases_ ABSL_GUARDED_BY(mu_);
  bool pass_queued_ ABSL_GUARDED_BY(mu_) = false;
  Health health_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::node
