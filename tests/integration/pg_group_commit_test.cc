// Group commit (db/pg_group_commit.h) on the shared PostgreSQL: writers
// that queue behind a commit in flight share the next transaction; a writer
// whose statements fail gets its error alone while the rest of its group
// commits; concurrent writers all commit.
#include "db/pg_group_commit.h"

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "db/pg_pool.h"
#include "tests/support/scratch_db.h"

namespace zun::testing {
namespace {

int Value(ScratchDatabase& db, int id) {
  auto rows = db.Query(absl::StrCat("SELECT v FROM gc WHERE id = ", id));
  return rows.empty() ? -1 : std::stoi(*rows[0]["v"]);
}

bool WaitFor(const std::function<bool()>& cond) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!cond()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

db::GroupCommitter::Statements Set(int id, int v) {
  return [id, v](pqxx::transaction_base& t) {
    t.exec(absl::StrCat("INSERT INTO gc (id, v) VALUES (", id, ", ", v,
                        ") ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v"));
  };
}

TEST_CASE("writers queued behind a commit share one transaction") {
  ScratchDatabase db(false);
  db.Exec("CREATE TABLE gc (id INT PRIMARY KEY, v INT NOT NULL)");
  db::PgPool pool(db.options());
  db::GroupCommitter committer(&pool, 64, true);

  // The first writer holds its commit open until five more are queued.
  absl::Notification go;
  absl::Status first;
  std::thread leader([&] {
    first = committer.Commit([&](pqxx::transaction_base& t) {
      go.WaitForNotification();
      Set(1, 10)(t);
    });
  });
  REQUIRE(WaitFor([&] { return committer.waiting() == 1; }));
  std::vector<absl::Status> results(5);
  std::vector<std::thread> followers;
  for (int i = 0; i < 5; ++i) {
    followers.emplace_back([&, i] {
      if (i == 2) {  // this one fails: a division by zero
        results[i] = committer.Commit(
            [](pqxx::transaction_base& t) { t.exec("SELECT 1 / 0"); });
      } else {
        results[i] = committer.Commit(Set(100 + i, i));
      }
    });
  }
  REQUIRE(WaitFor([&] { return committer.waiting() == 6; }));
  go.Notify();
  leader.join();
  for (auto& t : followers) t.join();

  CHECK(first.ok());
  CHECK(Value(db, 1) == 10);
  for (int i = 0; i < 5; ++i) {
    INFO("writer " << i);
    if (i == 2) {
      CHECK_FALSE(results[i].ok());
    } else {
      CHECK(results[i].ok());
      CHECK(Value(db, 100 + i) == i);
    }
  }
  // The five followers formed one group (which failed and was rerun one by
  // one): the first writer went alone.
  const db::GroupCommitter::Stats s = committer.stats();
  CHECK(s.groups == 1);
  CHECK(s.grouped_writers == 5);
  CHECK(committer.waiting() == 0);
}

TEST_CASE("a single-statement writer alone commits in autocommit") {
  ScratchDatabase db(false);
  db.Exec("CREATE TABLE gc (id INT PRIMARY KEY, v INT NOT NULL)");
  db::PgPool pool(db.options());
  db::GroupCommitter committer(&pool, 64, true);
  // In autocommit the statement is its transaction: both start together.
  // After a BEGIN of its own round trip, the statement starts later.
  auto own_transaction = [](int id) {
    return [id](pqxx::transaction_base& t) {
      t.exec(absl::StrCat(
          "INSERT INTO gc (id, v) SELECT ", id,
          ", CASE WHEN transaction_timestamp() = statement_timestamp() THEN 1 "
          "ELSE 0 END"));
    };
  };
  REQUIRE(committer.Commit(own_transaction(1), /*single_statement=*/true).ok());
  REQUIRE(committer.Commit(own_transaction(2)).ok());
  CHECK(Value(db, 1) == 1);
  CHECK(Value(db, 2) == 0);
  // A failing one leaves nothing and returns its error.
  CHECK_FALSE(committer
                  .Commit(
                      [](pqxx::transaction_base& t) {
                        t.exec("INSERT INTO gc (id, v) VALUES (3, 1 / 0)");
                      },
                      /*single_statement=*/true)
                  .ok());
  CHECK(Value(db, 3) == -1);
}

TEST_CASE("many concurrent writers all commit, in fewer transactions") {
  ScratchDatabase db(false);
  db.Exec("CREATE TABLE gc (id INT PRIMARY KEY, v INT NOT NULL)");
  db::PgPool pool(db.options());
  db::GroupCommitter committer(&pool, 8, true);
  constexpr int kThreads = 16, kWrites = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 1; k <= kWrites; ++k) {
        if (!committer.Commit(Set(i, k)).ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  for (int i = 0; i < kThreads; ++i) CHECK(Value(db, i) == kWrites);
  // No group is larger than its bound.
  const db::GroupCommitter::Stats s = committer.stats();
  CHECK(s.grouped_writers <= 8 * s.groups);
}

}  // namespace
}  // namespace zun::testing
