// File: pg_internal.h
// Pieces of PgCapsuleStore shared by its source files (pg_capsule_store.cc,
// pg_actions.cc, pg_node.cc): statements that run inside a caller's
// transaction. Not part of the db/ interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "capsule/model.h"
#include "db/capsule_store.h"
#include "db/pg_util.h"
#include "pqxx/pqxx"

namespace zun::db {
class GroupCommitter;
}  // namespace zun::db

namespace zun::db::internal {

// Timestamps the agent writes (UTC: every session sets TIME ZONE 'UTC').
inline constexpr char kNow[] = "LOCALTIMESTAMP";

// The capsule row `uuid` with children and registries, its rows read by one
// statement (then volumes and registries, only if it has any). NOT_FOUND if
// absent.
absl::StatusOr<capsule::Capsule> LoadIn(pqxx::transaction_base& t,
                                        std::string_view uuid);

// Capsules from container rows (pg_load.cc): `parts` hold capsule rows
// (container_type 1) and children (2, 3), each capsule row before its
// children, children in id order. Volumes and registries are read as
// needed; when `all_children_checked_for_volumes`, every child row carries
// a boolean zun_has_volume and the mounts are read only if one is true.
absl::StatusOr<std::vector<capsule::Capsule>> AssembleCapsules(
    pqxx::transaction_base& t, const std::vector<const pqxx::result*>& parts,
    bool all_children_checked_for_volumes);
// The capsules of `capsules` (capsule rows) with their children.
absl::StatusOr<std::vector<capsule::Capsule>> LoadWithChildren(
    pqxx::transaction_base& t, const pqxx::result& capsules);

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
// The UPDATE of `p`, its parameters appended to `params` (numbered on from
// those already there). INVALID_ARGUMENT for a column the agent may not
// write or a bad value.
absl::StatusOr<std::string> PatchUpdate(const RowPatch& p, SqlParams& params);
// Encodes every non-empty patch; INVALID_ARGUMENT for a column the agent
// may not write or a bad value (before any SQL runs).
absl::StatusOr<std::vector<PreparedPatch>> PreparePatches(
    const std::vector<RowPatch>& patches);
void ExecPatches(pqxx::transaction_base& t,
                 const std::vector<PreparedPatch>& statements);

// The end of an action event (FinishAction's arguments).
struct ActionFinish {
  int64_t event_id = 0;
  bool success = true;
  std::string message;
};
// Its two UPDATEs: the event's (RETURNING action_id), and its action's,
// which reads the first as the WITH query `zev`.
struct FinishSql {
  std::string event_update;
  std::string action_update;
};
FinishSql FinishActionSql(const ActionFinish& f, SqlParams& params);

// `patches` and `finish` as one statement (WITH queries), so that a writer
// alone needs one round trip and no BEGIN/COMMIT. nullopt when they cannot
// be one: nothing to write, a row patched twice, or too many distinct
// statement texts already (see pg_writes.cc). INVALID_ARGUMENT as
// PatchUpdate.
absl::StatusOr<std::optional<PreparedPatch>> MergeWrite(
    const std::vector<RowPatch>& patches,
    const std::optional<ActionFinish>& finish);

// Commits `patches` (and `finish`, if any) through `writes`: as one
// statement when MergeWrite can make one, else as one UPDATE each in one
// transaction. INVALID_ARGUMENT as PatchUpdate, before any SQL runs;
// otherwise errors as GroupCommitter::Commit.
absl::Status CommitWrite(GroupCommitter& writes,
                         const std::vector<RowPatch>& patches,
                         const std::optional<ActionFinish>& finish);

// ClaimCapsuleWithAction inside `t`, as one statement.
absl::StatusOr<CapsuleStore::Claimed> ClaimWithActionIn(
    pqxx::transaction_base& t, std::string_view uuid, std::string_view host,
    std::string_view task_state, std::string_view action,
    std::string_view event, const ActionContext& ctx);

// StartAction's statement as the WITH queries `found`, `ins` and `ev` (`ev`
// returns the event's id): the action row of the request (capsule $1,
// action $first, request id $first+1) reused, else inserted (user
// $first+2, project $first+3), and its event ($first+4) opened. `only_if`
// (SQL; "" for always) guards the action's lookup and insert.
std::string StartActionCtes(int first, std::string_view only_if);
// Adds StartActionCtes' parameters $first..$first+4 to `params`, in their
// order (the capsule's $1 is the caller's).
void AddStartActionParams(SqlParams& params, std::string_view action,
                          std::string_view event, const ActionContext& ctx);

// StartAction / FinishAction inside `t`.
int64_t StartActionIn(pqxx::transaction_base& t, std::string_view uuid,
                      std::string_view action, std::string_view event,
                      const ActionContext& ctx);
void FinishActionIn(pqxx::transaction_base& t, int64_t event_id, bool success,
                    std::string_view message);

}  // namespace zun::db::internal
