// File: mem_capsule_store.h
// An in-memory CapsuleStore for unit tests of the agent: the same contract
// as PgCapsuleStore (claims, patches, cascaded deletes, actions, heartbeat),
// plus switches that make it unavailable and counters of what was written.
// Thread-safe.
#pragma once

#include <map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "db/capsule_store.h"

namespace zun::db {

class MemCapsuleStore final : public CapsuleStore {
 public:
  MemCapsuleStore() = default;

  // Test setup and inspection.
  void Put(const capsule::Capsule& c);
  std::optional<capsule::Capsule> Get(const std::string& uuid);
  void SetUnavailable(bool down);
  // The next `times` claims (all of them if negative, until cleared with
  // OkStatus()) fail with `error`, e.g. a row that does not decode.
  void SetClaimError(absl::Status error, int times = -1);
  int64_t claims();                    // claim attempts
  int64_t rows_written();              // rows touched by Apply/Claim/Delete
  int64_t write_transactions();        // Apply/Claim/Delete calls that wrote
  std::vector<std::string> actions();  // "uuid action event result"

  // CapsuleStore
  absl::StatusOr<capsule::Capsule> LoadCapsule(std::string_view uuid) override;
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

  std::optional<ComputeNodeRecord> compute_node();
  std::optional<ServiceRecord> service();

 private:
  absl::Status CheckUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  capsule::ContainerRecord* FindRow(const std::string& uuid)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status claim_error_ ABSL_GUARDED_BY(mu_);
  int claim_error_times_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t claims_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, capsule::Capsule> capsules_ ABSL_GUARDED_BY(mu_);
  int64_t rows_written_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t write_txns_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> actions_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, size_t> events_ ABSL_GUARDED_BY(mu_);
  // By host, as the tables are keyed; the accessors return the last one
  // reported.
  std::map<std::string, ServiceRecord> services_ ABSL_GUARDED_BY(mu_);
  std::string last_service_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ComputeNodeRecord> nodes_ ABSL_GUARDED_BY(mu_);
  std::string last_node_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::db
