// Row writes of PgCapsuleStore as SQL (internal to db/, declared in
// pg_internal.h): one UPDATE per RowPatch, an action event's finish, and
// both merged into one statement.
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "db/pg_group_commit.h"
#include "db/pg_internal.h"
#include "db/row_codec.h"

namespace zun::db::internal {
namespace {

// Merged statements are prepared once per connection and text: the texts
// are bounded, so that a long-running agent's connections do not collect
// server-side plans for every combination of patches it ever wrote. Past
// the bound, writes go as separate statements (their texts are few).
constexpr size_t kMaxMergedShapes = 256;

bool AdmitShape(const std::string& sql) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* shapes = new absl::flat_hash_set<size_t>();
  const size_t h = std::hash<std::string>{}(sql);
  absl::MutexLock l(&mu);
  if (shapes->contains(h)) return true;
  if (shapes->size() >= kMaxMergedShapes) return false;
  shapes->insert(h);
  return true;
}

}  // namespace

absl::StatusOr<std::string> PatchUpdate(const RowPatch& p, SqlParams& params) {
  params.Add(p.uuid());
  const int uuid_param = params.size();
  std::vector<std::string> sets;
  for (const auto& [col, value] : p.values()) {
    absl::StatusOr<std::optional<std::string>> v =
        EncodeColumnValue(col, value);
    if (!v.ok()) return v.status();
    params.Add(*std::move(v));
    sets.push_back(absl::StrCat(col, " = $", params.size()));
  }
  if (p.clear_task_state_if()) {
    params.Add(*p.clear_task_state_if());
    sets.push_back(absl::StrCat("task_state = CASE WHEN task_state = $",
                                params.size(),
                                " THEN NULL ELSE task_state END"));
  }
  sets.push_back(absl::StrCat("updated_at = ", kNow));
  return absl::StrCat("UPDATE container SET ", absl::StrJoin(sets, ", "),
                      " WHERE uuid = $", uuid_param);
}

absl::StatusOr<std::vector<PreparedPatch>> PreparePatches(
    const std::vector<RowPatch>& patches) {
  std::vector<PreparedPatch> statements;
  for (const RowPatch& p : patches) {
    if (p.empty()) continue;
    PreparedPatch st;
    absl::StatusOr<std::string> sql = PatchUpdate(p, st.params);
    if (!sql.ok()) return sql.status();
    st.sql = *std::move(sql);
    statements.push_back(std::move(st));
  }
  return statements;
}

void ExecPatches(pqxx::transaction_base& t,
                 const std::vector<PreparedPatch>& statements) {
  for (const PreparedPatch& st : statements) st.params.Exec(t, st.sql);
}

FinishSql FinishActionSql(const ActionFinish& f, SqlParams& params) {
  params.Add(std::to_string(f.event_id));
  const int id = params.size();
  params.Add(f.success ? "Success" : "Error");
  const int result = params.size();
  params.Add(f.success ? std::optional<std::string>()
                       : std::optional<std::string>(f.message));
  const int traceback = params.size();
  FinishSql out;
  out.event_update = absl::StrCat(
      "UPDATE container_actions_events SET finish_time = ", kNow,
      ", updated_at = ", kNow, ", result = $", result, ", traceback = $",
      traceback, " WHERE id = $", id, "::int RETURNING action_id");
  out.action_update = absl::StrCat(
      "UPDATE container_actions SET finish_time = ", kNow,
      ", updated_at = ", kNow, ", message = CASE WHEN $", result,
      " = 'Error' THEN 'Error' ELSE message END WHERE id = (SELECT action_id "
      "FROM zev)");
  return out;
}

absl::StatusOr<std::optional<PreparedPatch>> MergeWrite(
    const std::vector<RowPatch>& patches,
    const std::optional<ActionFinish>& finish) {
  // One statement may not update a row twice (PostgreSQL would apply only
  // one of the two): such writes stay separate statements.
  std::set<std::string_view> rows;
  PreparedPatch out;
  std::vector<std::string> parts;
  for (const RowPatch& p : patches) {
    if (p.empty()) continue;
    if (!rows.insert(p.uuid()).second) return std::nullopt;
    absl::StatusOr<std::string> sql = PatchUpdate(p, out.params);
    if (!sql.ok()) return sql.status();
    parts.push_back(*std::move(sql));
  }
  if (!finish && parts.size() == 1) {
    out.sql = std::move(parts.front());
    return out;
  }
  if (!finish && parts.empty()) return std::nullopt;
  std::vector<std::string> ctes;
  for (size_t i = 0; i < parts.size(); ++i) {
    ctes.push_back(absl::StrCat("zp", i, " AS (", parts[i], ")"));
  }
  if (finish) {
    FinishSql f = FinishActionSql(*finish, out.params);
    ctes.push_back(absl::StrCat("zev AS (", f.event_update, ")"));
    ctes.push_back(absl::StrCat("zact AS (", f.action_update, ")"));
  }
  // Every data-modifying WITH query runs to completion, read or not.
  out.sql = absl::StrCat("WITH ", absl::StrJoin(ctes, ", "), " SELECT 1");
  if (!AdmitShape(out.sql)) return std::nullopt;
  return out;
}

absl::Status CommitWrite(GroupCommitter& writes,
                         const std::vector<RowPatch>& patches,
                         const std::optional<ActionFinish>& finish) {
  // Encoded first: a bad column fails the call before any SQL runs.
  absl::StatusOr<std::optional<PreparedPatch>> merged =
      MergeWrite(patches, finish);
  if (!merged.ok()) return merged.status();
  if (*merged) {
    return writes.Commit(
        [&](pqxx::transaction_base& t) {
          (*merged)->params.Exec(t, (*merged)->sql);
        },
        /*single_statement=*/true);
  }
  absl::StatusOr<std::vector<PreparedPatch>> statements =
      PreparePatches(patches);
  if (!statements.ok()) return statements.status();
  if (statements->empty() && !finish) return absl::OkStatus();
  return writes.Commit([&](pqxx::transaction_base& t) {
    ExecPatches(t, *statements);
    if (finish) {
      FinishActionIn(t, finish->event_id, finish->success, finish->message);
    }
  });
}

}  // namespace zun::db::internal
