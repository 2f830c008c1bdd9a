// File: pg_group_commit.h  (internal to db/)
// Group commit for PgCapsuleStore's row writes, the way LevelDB batches its
// log writes: concurrent writers queue up, and the writer at the front of
// the queue runs its own statements and those of every writer queued
// behind it (up to a limit) in one transaction, while the next group forms
// behind it. A writer alone commits at once: grouping adds no wait, it only
// shares a commit (one WAL flush, one BEGIN/COMMIT) among writers that
// arrive while another commit is in flight.
//
// Thread-safe: Commit is called from any number of threads.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "pqxx/pqxx"

namespace zun::db {

class PgPool;

class GroupCommitter {
 public:
  // One writer's statements, run inside the shared transaction; they must
  // neither commit nor abort it, and may run more than once: alone when
  // their group failed (nothing of it was committed), and, for an
  // idempotent committer, once more on a fresh connection when the
  // connection broke (the commit may have happened).
  using Statements = std::function<void(pqxx::transaction_base&)>;

  // `pool` must outlive the committer. `max_group` >= 1 bounds the writers
  // of one transaction.
  // `idempotent`: as PgPool::Run's (whether a transaction whose connection
  // broke may run again on a fresh one; false when the statements insert).
  GroupCommitter(PgPool* pool, size_t max_group, bool idempotent);

  // Runs `statements` in a committed transaction, possibly shared with
  // other writers. Returns once that transaction committed (OK) or failed.
  // A group fails as a whole; then, unless the database is unreachable
  // (UNAVAILABLE or DEADLINE_EXCEEDED, given to every writer of the group),
  // each writer is run again alone, so that an error is returned to the
  // writer whose statements caused it and the others still commit. Errors
  // as PgPool::Run. Blocks for at most the group's statements' deadlines.
  //
  // `single_statement`: `statements` run exactly one SQL statement (or one
  // write and reads that need no transaction). A writer alone then runs it
  // in autocommit: the statement is its own transaction, one round trip
  // instead of BEGIN, statement, COMMIT. In a group it runs inside the
  // group's transaction like any other.
  absl::Status Commit(const Statements& statements,
                      bool single_statement = false);

  // Transactions that carried more than one writer, and the writers they
  // carried (for tests).
  struct Stats {
    size_t groups = 0;
    size_t grouped_writers = 0;
  };
  Stats stats() const;
  // Writers queued or committing now (tests use it to know a group formed).
  size_t waiting() const;

 private:
  struct Writer;
  void RunGroup(const std::vector<Writer*>& group);
  absl::Status RunAlone(const Writer& w);

  PgPool* const pool_;
  const size_t max_group_;
  const bool idempotent_;
  mutable absl::Mutex mu_;
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::db
