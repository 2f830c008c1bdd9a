// File: node_reporter.h
// Node liveness and inventory, as zun-compute reports them:
//  - the zun_service heartbeat of (host, 'zun-compute') every
//    [DEFAULT] report_interval: report_count + 1 and last_seen_up, so the
//    API and scheduler see this host up (down after service_down_time);
//    disabled / forced_down are read back and reported (they are the
//    operator's: the scheduler stops placing on a disabled host, the API
//    treats a forced-down host as down; the agent keeps serving what it has);
//  - the compute_node row every [compute] inventory_interval, with every
//    NOT NULL column filled: host CPUs, memory and disk, NUMA topology,
//    container counts and the CPU/memory claimed by the capsules on this host,
//    the CRI runtime handlers, architecture, OS and kernel, as Zun's
//    resource tracker fills them (reserved host resources are Placement's
//    business, not this row's). Written only when something changed.
//  - with a PlacementReporter, the node's resources and disabled flag
//    after every inventory and every heartbeat that saw the flag change.
// Runs on its own loop thread. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "capsule/model.h"
#include "common/clock.h"
#include "common/event_loop.h"
#include "cri/cri_client.h"
#include "db/capsule_store.h"
#include "node/host_info.h"
#include "node/placement_reporter.h"

namespace zun::node {

struct NodeReporterOptions {
  std::string host;
  std::string availability_zone = "nova";
  absl::Duration report_interval = absl::Seconds(10);
  absl::Duration inventory_interval = absl::Seconds(60);
  std::vector<std::string> configured_runtimes = {"runc"};
  bool enable_cpu_pinning = false;
  double reserve_disk_for_image = 0.2;
  std::string disk_path = "/var/lib/zun";  // statvfs target
  std::string host_root;                   // "" = the real /proc, /sys, /etc
};

// Calls its argument once for each capsule the node holds (the agent's
// registry provides it). Must be thread-safe.
using CapsuleVisitor =
    std::function<void(const std::function<void(const capsule::Capsule&)>&)>;

// The compute_node row for `host` given the machine and the capsules on it.
db::ComputeNodeRecord BuildInventory(const HostInfo& host_info,
                                     const CapsuleVisitor& capsules,
                                     const std::vector<std::string>& runtimes,
                                     const NodeReporterOptions& options);

class NodeReporter {
 public:
  // `placement` may be null (no Placement reporting).
  NodeReporter(db::CapsuleStore& store, cri::CriClient& cri,
               CapsuleVisitor capsules, Clock& clock,
               NodeReporterOptions options,
               PlacementReporter* placement = nullptr);
  ~NodeReporter();

  absl::Status ReportOnce();
  absl::Status InventoryOnce();
  // Reports at once, then on their intervals, on the reporter's thread.
  void Start();
  void Stop();

  // The zun_service row as of the last heartbeat.
  std::optional<db::ServiceRecord> service();
  // When the last heartbeat succeeded.
  absl::Time last_report();
  // The resource provider Placement shares with another service
  // (host_shared_with_nova): written into compute_node.rp_uuid.
  void AdoptProvider(const std::string& rp_uuid);

 private:
  // Hands the node's resources to the PlacementReporter, if any.
  void PushToPlacement() ABSL_LOCKS_EXCLUDED(mu_);

  db::CapsuleStore& store_;
  cri::CriClient& cri_;
  const CapsuleVisitor capsules_;
  Clock& clock_;
  const NodeReporterOptions options_;
  PlacementReporter* const placement_;
  EventLoop loop_;
  absl::Mutex mu_;
  std::optional<db::ServiceRecord> service_ ABSL_GUARDED_BY(mu_);
  absl::Time last_report_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::optional<db::ComputeNodeRecord> last_inventory_ ABSL_GUARDED_BY(mu_);
  std::string node_uuid_ ABSL_GUARDED_BY(mu_);
  std::string rp_uuid_ ABSL_GUARDED_BY(mu_);
  std::string adopted_rp_uuid_ ABSL_GUARDED_BY(mu_);
  HostInfo host_info_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::node
