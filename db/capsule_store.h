// File: capsule_store.h
// `CapsuleStore` is the agent's view of Zun's database: the capsule rows
// (`container` table, types 1/2/3), the service heartbeat (`zun_service`),
// the node inventory (`compute_node`) and the action bookkeeping
// (`container_actions`, `container_actions_events`). Implementations:
// PgCapsuleStore (PostgreSQL) and MemCapsuleStore (in-memory, tests).
//
// Contract shared by every method:
// - Each call is bounded by the store's deadline (statement timeout and
//   connection-acquire timeout); DEADLINE_EXCEEDED when it passes.
// - UNAVAILABLE: the database could not be reached (retry later).
// - Writes of one call are atomic (one transaction).
// - Thread-safe: any number of threads may call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "capsule/model.h"
#include "db/row_patch.h"
#include "nlohmann/json.hpp"

namespace zun::db {

struct ServiceRecord {
  int64_t id = 0;
  std::string host;
  std::string binary;
  bool disabled = false;
  std::string disabled_reason;
  bool forced_down = false;
  int64_t report_count = 0;
  std::optional<absl::Time> last_seen_up;
  std::string availability_zone;
};

// One `compute_node` row; every NOT NULL column has a value here.
struct ComputeNodeRecord {
  std::string uuid;  // generated on first insert if empty
  // Written only when set; empty keeps the row's (a provider another
  // service shares must never be replaced), and = uuid on first insert.
  std::string rp_uuid;
  std::string hostname;
  nlohmann::json numa_topology;  // {"nodes": [...]}
  int64_t mem_total = 0, mem_free = 0, mem_available = 0, mem_used = 0;  // MiB
  int64_t total_containers = 0, running_containers = 0;
  int64_t paused_containers = 0, stopped_containers = 0;
  int64_t cpus = 0;
  double cpu_used = 0;
  std::string architecture, os_type, os, kernel_version;
  nlohmann::json labels = nlohmann::json::object();
  std::string pci_stats;  // JSON text (a PciDevicePoolList primitive)
  int64_t disk_total = 0, disk_used = 0;  // GB
  bool disk_quota_supported = false;
  nlohmann::json runtimes = nlohmann::json::array();
  bool enable_cpu_pinning = false;
};

// Who asked for an operation (from the RPC context).
struct ActionContext {
  std::string request_id;
  std::string user_id;
  std::string project_id;
};

class CapsuleStore {
 public:
  virtual ~CapsuleStore() = default;

  // The capsule with this uuid, its children (init containers and containers
  // by id) and the registry credentials they reference. NOT_FOUND if there is
  // no capsule row with this uuid.
  virtual absl::StatusOr<capsule::Capsule> LoadCapsule(
      std::string_view uuid) = 0;

  // The capsules of `uuids` that exist (absent ones are left out), each as
  // LoadCapsule returns it, in no particular order. The default loads them
  // one by one.
  virtual absl::StatusOr<std::vector<capsule::Capsule>> LoadCapsules(
      const std::vector<std::string>& uuids);

  // Every capsule whose host is `host`, with children.
  virtual absl::StatusOr<std::vector<capsule::Capsule>> ListCapsules(
      std::string_view host) = 0;

  // Claims the capsule for `host` (Zun's resource claim): sets host and
  // task_state when host is NULL or already `host`, and returns the capsule
  // as stored afterwards. NOT_FOUND if absent; FAILED_PRECONDITION if another
  // host holds it. Idempotent.
  virtual absl::StatusOr<capsule::Capsule> ClaimCapsule(
      std::string_view uuid, std::string_view host,
      std::string_view task_state) = 0;

  // Applies every patch in one transaction (updated_at is set on each row
  // touched). Patches of rows that no longer exist are ignored.
  virtual absl::Status Apply(const std::vector<RowPatch>& patches) = 0;

  // Deletes a capsule row and its children. OK if already gone.
  virtual absl::Status DeleteCapsule(std::string_view uuid) = 0;

  // Records the start of an action on a capsule (`container_actions`, e.g.
  // "create"), reusing the row the API wrote for the same request id if there
  // is one, and opens an event row (`container_actions_events`) named
  // `event`. Returns the event id.
  virtual absl::StatusOr<int64_t> StartAction(std::string_view uuid,
                                              std::string_view action,
                                              std::string_view event,
                                              const ActionContext& ctx) = 0;
  // Finishes the event and its action: result "Success" or "Error" with
  // `message` (the action's message is "Error" on failure, as Zun does).
  virtual absl::Status FinishAction(int64_t event_id, bool success,
                                    std::string_view message) = 0;

  // The zun_service heartbeat of (host, 'zun-compute'): creates the row if
  // missing, else increments report_count and sets last_seen_up (and the
  // availability zone). Returns the row after the update, so the caller sees
  // disabled / forced_down.
  virtual absl::StatusOr<ServiceRecord> ReportService(
      std::string_view host, std::string_view availability_zone) = 0;

  // Inserts or updates the compute_node row of `node.hostname`; returns the
  // row's uuid and rp_uuid as stored.
  struct ComputeNodeIds {
    std::string uuid;
    std::string rp_uuid;
  };
  virtual absl::StatusOr<ComputeNodeIds> UpsertComputeNode(
      const ComputeNodeRecord& node) = 0;

  // The `container` rows (any type and host) of those `uuids` that have
  // one, in brief, by uuid.
  struct ContainerBrief {
    int container_type = 0;
    std::string status;
    std::optional<std::string> host;
    std::optional<std::string> task_state;
    std::optional<absl::Time> created_at;
  };
  virtual absl::StatusOr<std::map<std::string, ContainerBrief>> BriefContainers(
      const std::vector<std::string>& uuids) = 0;

  // Cheap round trip used by /healthz.
  virtual absl::Status Ping() = 0;

  // A version of each capsule row of `host` (uuid -> VersionOf), to find
  // what changed without loading every capsule. The default loads them.
  virtual absl::StatusOr<std::map<std::string, std::string>> CapsuleVersions(
      std::string_view host);

  // ClaimCapsule, then StartAction, in one transaction where the store can
  // (the default runs them one after the other; a failed StartAction then
  // leaves `event_id` empty). Errors as ClaimCapsule.
  struct Claimed {
    capsule::Capsule capsule;
    std::optional<int64_t> event_id;
  };
  virtual absl::StatusOr<Claimed> ClaimCapsuleWithAction(
      std::string_view uuid, std::string_view host, std::string_view task_state,
      std::string_view action, std::string_view event,
      const ActionContext& ctx);
  // Apply, then FinishAction, in one transaction where the store can.
  virtual absl::Status ApplyAndFinishAction(
      const std::vector<RowPatch>& patches, int64_t event_id, bool success,
      std::string_view message);
};

using CapsuleStorePtr = std::unique_ptr<CapsuleStore>;

// What CapsuleVersions reports for a capsule row: its updated_at (unix
// microseconds), task_state and status.
std::string VersionOf(const capsule::ContainerRecord& capsule_row);

}  // namespace zun::db
