// File: pg_pool.h  (internal to db/)
// A small pool of libpqxx connections. One pqxx::connection is not
// thread-safe, so each is lent to one thread at a time. Every connection has
// a connect timeout and a server-side statement timeout, so no call can
// block longer than its deadline. libpqxx exceptions are caught here and
// become absl::Status (see FromPqxx), so none escape db/.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "db/pg_options.h"
#include "db/pg_run_mode.h"
#include "pqxx/pqxx"

namespace zun::db {

// Maps a libpqxx (or std) exception to a status: broken connection ->
// UNAVAILABLE, statement timeout -> DEADLINE_EXCEEDED, unique violation ->
// ALREADY_EXISTS, serialization failure/deadlock -> ABORTED, others INTERNAL.
absl::Status FromPqxx(const std::exception& e);

// The connection string libpq gets: driver suffix stripped and
// connect_timeout / application_name added.
std::string NormalizeConnectionString(const std::string& conn,
                                      absl::Duration connect_timeout);

// Thread-safe.
class PgPool {
 public:
  explicit PgPool(PgOptions options);
  ~PgPool();

  // Runs `fn` with a connection from the pool. Exceptions thrown by `fn` are
  // converted with FromPqxx; a connection that broke is discarded, and the
  // call is retried once on a fresh connection when `idempotent`.
  absl::Status Run(const std::function<absl::Status(pqxx::connection&)>& fn,
                   bool idempotent = true);

  // Runs `fn`, which sends one statement (and reads that need no
  // transaction), in autocommit: the statement is its own transaction, one
  // round trip instead of BEGIN, statement, COMMIT. Behind a transaction
  // pooler it runs inside a transaction (which carries the session's SETs).
  // Errors as Run.
  absl::Status RunStatement(
      const std::function<void(pqxx::transaction_base&)>& fn,
      bool idempotent = true);
  const PgOptions& options() const { return options_; }
  PoolStats Stats() const;

 private:
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> c, bool broken);
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect();

  const PgOptions options_;
  const std::string conn_string_;
  const RunMode run_mode_;
  // A plain mutex and condition variable: many threads may wait for a
  // connection, and each release wakes exactly one of them.
  mutable std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mu_
  int open_ = 0;     // idle + lent out; guarded by mu_
  PoolStats stats_;  // guarded by mu_
};

}  // namespace zun::db
