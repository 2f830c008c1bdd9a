#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "db/pg_capsule_store.h"
#include "db/pg_group_commit.h"
#include "db/pg_internal.h"
#include "db/pg_pool.h"

namespace zun::db {
namespace internal {

std::string StartActionCtes(int first, std::string_view only_if) {
  const std::string action = absl::StrCat("$", first);
  const std::string request = absl::StrCat("$", first + 1);
  const std::string guard =
      only_if.empty() ? "" : absl::StrCat(" AND ", AV(only_if));
  return absl::StrCat(
      "found AS (SELECT id FROM container_actions WHERE container_uuid = $1 "
      "AND action = ",
      action, " AND request_id = ", request, guard,
      " ORDER BY id DESC LIMIT 1), ins AS (INSERT INTO container_actions "
      "(created_at, container_uuid, action, request_id, user_id, project_id, "
      "start_time) SELECT ",
      kNow, ", $1, ", action, ", ", request, ", $", first + 2, ", $", first + 3,
      ", ", kNow, " WHERE NOT EXISTS (SELECT 1 FROM found)", guard,
      " RETURNING id), ev AS (INSERT INTO container_actions_events "
      "(created_at, event, action_id, start_time) SELECT ",
      kNow, ", $", first + 4, ", id, ", kNow,
      " FROM (SELECT id FROM found UNION ALL SELECT id FROM ins) a LIMIT 1 "
      "RETURNING id)");
}

void AddStartActionParams(SqlParams& params, std::string_view action,
                          std::string_view event, const ActionContext& ctx) {
  params.Add(action)
      .Add(ctx.request_id)
      .Add(ctx.user_id)
      .Add(ctx.project_id)
      .Add(event);
}

int64_t StartActionIn(pqxx::transaction_base& t, std::string_view uuid,
                      std::string_view action, std::string_view event,
                      const ActionContext& ctx) {
  // One round trip: reuse the action row the API wrote for this request,
  // else insert one; then open the event.
  static const std::string* sql = new std::string(
      absl::StrCat("WITH ", StartActionCtes(2, ""), " SELECT id FROM ev"));
  SqlParams params;
  params.Add(uuid);
  AddStartActionParams(params, action, event, ctx);
  return params.Exec(t, *sql)[0][0].as<int64_t>();
}

void FinishActionIn(pqxx::transaction_base& t, int64_t event_id, bool success,
                    std::string_view message) {
  // The event and its action, in one round trip.
  SqlParams params;
  FinishSql f = FinishActionSql(
      ActionFinish{event_id, success, std::string(message)}, params);
  params.Exec(
      t, absl::StrCat("WITH zev AS (", f.event_update, ") ", f.action_update));
}

}  // namespace internal

absl::StatusOr<int64_t> PgCapsuleStore::StartAction(std::string_view uuid,
                                                    std::string_view action,
                                                    std::string_view event,
                                                    const ActionContext& ctx) {
  int64_t out = 0;
  absl::Status s = pool_->Run(
      [&](pqxx::connection& c) {
        Work t(c);
        out = internal::StartActionIn(t, uuid, action, event, ctx);
        t.commit();
        return absl::OkStatus();
      },
      /*idempotent=*/false);
  if (!s.ok()) return s;
  return out;
}

absl::Status PgCapsuleStore::FinishAction(int64_t event_id, bool success,
                                          std::string_view message) {
  return writes_->Commit(
      [&](pqxx::transaction_base& t) {
        internal::FinishActionIn(t, event_id, success, message);
      },
      /*single_statement=*/true);
}

absl::StatusOr<CapsuleStore::Claimed> PgCapsuleStore::ClaimCapsuleWithAction(
    std::string_view uuid, std::string_view host, std::string_view task_state,
    std::string_view action, std::string_view event, const ActionContext& ctx) {
  // Claims arriving together share a transaction (a refused claim writes
  // nothing, so it may commit with the others); a claim alone is one
  // statement in autocommit.
  absl::StatusOr<Claimed> out = absl::UnknownError("not run");
  absl::Status s = claims_->Commit(
      [&](pqxx::transaction_base& t) {
        out = internal::ClaimWithActionIn(t, uuid, host, task_state, action,
                                          event, ctx);
      },
      /*single_statement=*/true);
  if (!s.ok()) return s;
  return out;
}

absl::Status PgCapsuleStore::ApplyAndFinishAction(
    const std::vector<RowPatch>& patches, int64_t event_id, bool success,
    std::string_view message) {
  return internal::CommitWrite(
      *writes_, patches,
      internal::ActionFinish{event_id, success, std::string(message)});
}

}  // namespace zun::db
