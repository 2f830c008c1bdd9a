// File: pg_internal.h
// Pieces of PgCapsuleStore shared by its source files (pg_capsule_store.cc,
// pg_actions.cc, pg_node.cc): statements that run inside a caller's
// transaction. Not part of the db/ interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "capsule/model.h"
#include "db/capsule_store.h"
#include "db/pg_util.h"
#include "pqxx/pqxx"

namespace zun::db::internal {

// Timestamps the agent writes (UTC: every session sets TIME ZONE 'UTC').
inline constexpr char kNow[] = "LOCALTIMESTAMP";

// The capsule row `uuid` with children and registries. NOT_FOUND if absent.
absl::StatusOr<capsule::Capsule> LoadOne(pqxx::transaction_base& t,
                                         std::string_view uuid);

// ClaimCapsule inside `t` (the claim is visible once `t` commits).
absl::StatusOr<capsule::Capsule> ClaimIn(pqxx::transaction_base& t,
                                         std::string_view uuid,
                                         std::string_view host,
                                         std::string_view task_state);

// One UPDATE of a RowPatch, encoded.
struct PreparedPatch {
  std::string sql;
  SqlParams params;
};
// Encodes every non-empty patch; INVALID_ARGUMENT for a column the agent
// may not write or a bad value (before any SQL runs).
absl::StatusOr<std::vector<PreparedPatch>> PreparePatches(
    const std::vector<RowPatch>& patches);
void ExecPatches(pqxx::transaction_base& t,
                 const std::vector<PreparedPatch>& statements);

// StartAction / FinishAction inside `t`.
int64_t StartActionIn(pqxx::transaction_base& t, std::string_view uuid,
                      std::string_view action, std::string_view event,
                      const ActionContext& ctx);
void FinishActionIn(pqxx::transaction_base& t, int64_t event_id, bool success,
                    std::string_view message);

}  // namespace zun::db::internal
