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
//    the CRI runtime handlers, architecture, OS and kernel. Written only
//    when something changed.
// Runs on its own loop thread. Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/capsule_registry.h"
#include "agent/host_info.h"
#include "common/clock.h"
#include "common/event_loop.h"
#include "cri/cri_client.h"
#include "db/capsule_store.h"

namespace zun::agent {

struct NodeReporterOptions {
  std::string host;
  std::string availability_zone = "nova";
  absl::Duration report_interval = absl::Seconds(10);
  absl::Duration inventory_interval = absl::Seconds(60);
  std::vector<std::string> configured_runtimes = {"runc"};
  bool enable_cpu_pinning = false;
  double reserve_disk_for_image = 0.2;
  // Held back for the host: subtracted from what the inventory offers.
  int64_t reserved_host_cpus = 0;
  int64_t reserved_host_memory_mib = 0;
  int64_t reserved_host_disk_mib = 0;
  std::string disk_path = "/var/lib/zun";  // statvfs target
  std::string host_root;                   // "" = the real /proc, /sys, /etc
};

// The compute_node row for `host` given the machine and the capsules on it.
db::ComputeNodeRecord BuildInventory(const HostInfo& host_info,
                                     const CapsuleRegistry& registry,
                                     const std::vector<std::string>& runtimes,
                                     const NodeReporterOptions& options);

class NodeReporter {
 public:
  NodeReporter(db::CapsuleStore& store, cri::CriClient& cri,
               CapsuleRegistry& registry, Clock& clock,
               NodeReporterOptions options);
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

 private:
  db::CapsuleStore& store_;
  cri::CriClient& cri_;
  CapsuleRegistry& registry_;
  Clock& clock_;
  const NodeReporterOptions options_;
  EventLoop loop_;
  absl::Mutex mu_;
  std::optional<db::ServiceRecord> service_ ABSL_GUARDED_BY(mu_);
  absl::Time last_report_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::optional<db::ComputeNodeRecord> last_inventory_ ABSL_GUARDED_BY(mu_);
  std::string node_uuid_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::agent
