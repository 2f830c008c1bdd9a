// File: pg_capsule_store.h
// CapsuleStore on PostgreSQL through libpqxx (a pool of connections, each
// statement bounded by the pool's statement timeout). Concurrent row writes
// (Apply, ApplyAndFinishAction) share transactions: group commit. libpqxx
// exceptions are caught inside and returned as absl::Status; no pqxx type
// leaves db/. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string_view>

#include "db/capsule_store.h"
#include "db/pg_options.h"

namespace zun::db {

class PgPool;
class GroupCommitter;

class PgCapsuleStore final : public CapsuleStore {
 public:
  explicit PgCapsuleStore(const PgOptions& options);
  ~PgCapsuleStore() override;

  // CapsuleStore
  absl::StatusOr<capsule::Capsule> LoadCapsule(std::string_view uuid) override;
  // In batches of 500, each one read transaction (the capsule rows, their
  // children, then volumes and registries if any).
  absl::StatusOr<std::vector<capsule::Capsule>> LoadCapsules(
      const std::vector<std::string>& uuids) override;
  absl::StatusOr<std::vector<capsule::Capsule>> ListCapsules(
      std::string_view host) override;
  absl::StatusOr<capsule::Capsule> ClaimCapsule(
      std::string_view uuid, std::string_view host,
      std::string_view task_state) override;
  absl::Status Apply(const std::vector<RowPatch>& patches) override;
  absl::Status DeleteCapsule(std::string_view uuid) override;
  absl::StatusOr<int64_t> StartAction(std::string_view uuid,
                                      std::string_view action,
                                      std::string_view event,
                                      const ActionContext& ctx) override;
  absl::Status FinishAction(int64_t event_id, bool success,
                            std::string_view message) override;
  absl::StatusOr<ServiceRecord> ReportService(
      std::string_view host, std::string_view availability_zone) override;
  absl::StatusOr<ComputeNodeIds> UpsertComputeNode(
      const ComputeNodeRecord& node) override;
  absl::StatusOr<std::map<std::string, ContainerBrief>> BriefContainers(
      const std::vector<std::string>& uuids) override;
  absl::Status Ping() override;
  absl::StatusOr<std::map<std::string, std::string>> CapsuleVersions(
      std::string_view host) override;
  absl::StatusOr<Claimed> ClaimCapsuleWithAction(
      std::string_view uuid, std::string_view host, std::string_view task_state,
      std::string_view action, std::string_view event,
      const ActionContext& ctx) override;
  absl::Status ApplyAndFinishAction(const std::vector<RowPatch>& patches,
                                    int64_t event_id, bool success,
                                    std::string_view message) override;

  // Counters of the connection pool (for metrics).
  PoolStats pool_stats() const;

  // The database's health from the work already done: OK without a round
  // trip when a statement reached the server within `max_age` and none has
  // failed to since; otherwise a Ping. (A steady agent's heartbeat keeps
  // this free.)
  absl::Status Health(absl::Duration max_age);

 private:
  std::unique_ptr<PgPool> pool_;
  // Apply and ApplyAndFinishAction share commits (pg_group_commit.h), and
  // so do concurrent claims (ClaimCapsuleWithAction).
  std::unique_ptr<GroupCommitter> writes_;
  std::unique_ptr<GroupCommitter> claims_;
};

// Applies the missing schema migrations (schema.h). Idempotent; safe to run
// concurrently. `agent_version` (the release running it) is recorded beside
// each migration it applies. Returns the schema version afterwards.
absl::StatusOr<int> SyncSchema(const PgOptions& options,
                               std::string_view agent_version = "");
// The schema version recorded in the database (0 if none).
absl::StatusOr<int> SchemaVersion(const PgOptions& options);

}  // namespace zun::db
