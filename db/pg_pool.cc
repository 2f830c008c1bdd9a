#include "db/pg_pool.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace zun::db {

absl::Status FromPqxx(const std::exception& e) {
  const std::string what = e.what();
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat("database unreachable: ", what));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    if (state == "57014") {
      return absl::DeadlineExceededError(
          absl::StrCat("database statement timed out: ", what));
    }
    if (state == "23505") return absl::AlreadyExistsError(what);
    if (state == "40001" || state == "40P01") return absl::AbortedError(what);
    if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" ||
        state == "57P03") {
      return absl::UnavailableError(
          absl::StrCat("database unreachable: ", what));
    }
    return absl::InternalError(
        absl::StrCat("database error (", state, "): ", what));
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(
        absl::StrCat("database connection lost during commit: ", what));
  }
  return absl::InternalError(absl::StrCat("database error: ", what));
}

std::string NormalizeConnectionString(const std::string& conn,
                                      absl::Duration connect_timeout) {
  std::string c = conn;
  // SQLAlchemy URLs: postgresql+psycopg2://... -> postgresql://...
  if (absl::StartsWith(c, "postgresql+") || absl::StartsWith(c, "postgres+")) {
    size_t plus = c.find('+');
    size_t colon = c.find("://");
    if (colon != std::string::npos && plus < colon) {
      c = c.substr(0, plus) + c.substr(colon);
    }
  }
  const int64_t secs = std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(connect_timeout, absl::Seconds(1))));
  const bool uri = absl::StartsWith(c, "postgresql://") ||
                   absl::StartsWith(c, "postgres://");
  if (uri) {
    const char sep = c.find('?') == std::string::npos ? '?' : '&';
    if (!absl::StrContains(c, "connect_timeout=")) {
      absl::StrAppend(&c, std::string(1, sep), "connect_timeout=", secs);
    }
    if (!absl::StrContains(c, "application_name=")) {
      absl::StrAppend(&c, "&application_name=zun-agent");
    }
  } else {
    if (!absl::StrContains(c, "connect_timeout")) {
      absl::StrAppend(&c, " connect_timeout=", secs);
    }
    if (!absl::StrContains(c, "application_name")) {
      absl::StrAppend(&c, " application_name=zun-agent");
    }
  }
  return c;
}

namespace {

thread_local const RunMode* current_run_mode = nullptr;

RunMode ModeFor(const PgOptions& o) {
  RunMode m;
  if (!o.transaction_pooling) return m;
  const int64_t ms = absl::ToInt64Milliseconds(o.statement_timeout);
  m.unnamed_statements = true;
  m.transaction_prelude = absl::StrCat("SET LOCAL statement_timeout = ", ms,
                                       "; SET LOCAL lock_timeout = ", ms,
                                       "; SET LOCAL TIME ZONE 'UTC'");
  return m;
}

}  // namespace

const RunMode& CurrentRunMode() {
  static const RunMode kDefault;
  return current_run_mode != nullptr ? *current_run_mode : kDefault;
}

ScopedRunMode::ScopedRunMode(const RunMode* mode)
    : previous_(current_run_mode) {
  current_run_mode = mode;
}

ScopedRunMode::~ScopedRunMode() { current_run_mode = previous_; }

PgPool::PgPool(PgOptions options)
    : options_(std::move(options)),
      conn_string_(NormalizeConnectionString(options_.connection,
                                             options_.connect_timeout)),
      run_mode_(ModeFor(options_)) {}

PgPool::~PgPool() = default;

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgPool::Connect() {
  try {
    auto c = std::make_unique<pqxx::connection>(conn_string_);
    // Behind a transaction pooler the session is not ours: each
    // transaction sets what it needs (RunMode).
    if (options_.transaction_pooling) return c;
    // One round trip. (plan_cache_mode = force_generic_plan was tried, to
    // plan each prepared statement once per connection: 200 concurrent
    // creates on a slow runtime took 1.8-1.9x their critical path with it,
    // 1.45-1.6x without.)
    const int64_t ms = absl::ToInt64Milliseconds(options_.statement_timeout);
    pqxx::nontransaction n(*c);
    n.exec(absl::StrCat("SET statement_timeout = ", ms,
                        "; SET lock_timeout = ", ms, "; SET TIME ZONE 'UTC'"));
    return c;
  } catch (const std::exception& e) {
    return FromPqxx(e);
  }
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgPool::Acquire() {
  std::unique_lock<std::mutex> l(mu_);
  const bool ready = available_.wait_for(
      l, absl::ToChronoNanoseconds(options_.acquire_timeout),
      [this] { return !idle_.empty() || open_ < options_.pool_size; });
  if (!ready) {
    return absl::DeadlineExceededError(
        "timed out waiting for a database connection from the pool");
  }
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;
  l.unlock();
  absl::StatusOr<std::unique_ptr<pqxx::connection>> c = Connect();
  l.lock();
  ++stats_.connects;
  if (!c.ok()) {
    --open_;
    ++stats_.connect_errors;
    l.unlock();
    available_.notify_one();  // the slot is free again
  }
  return c;
}

void PgPool::Release(std::unique_ptr<pqxx::connection> c, bool broken) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (broken || !c->is_open()) {
      --open_;
      ++stats_.broken;
    } else {
      idle_.push_back(std::move(c));
    }
  }
  c.reset();  // a broken one closes outside the lock
  available_.notify_one();
}

absl::Status PgPool::RunStatement(
    const std::function<void(pqxx::transaction_base&)>& fn, bool idempotent) {
  return Run(
      [&](pqxx::connection& c) {
        if (!options_.transaction_pooling) {
          pqxx::nontransaction t(c);
          fn(t);
          return absl::OkStatus();
        }
        Work t(c);
        fn(t);
        t.commit();
        return absl::OkStatus();
      },
      idempotent);
}

PoolStats PgPool::Stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

absl::Status PgPool::Run(
    const std::function<absl::Status(pqxx::connection&)>& fn, bool idempotent) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::unique_ptr<pqxx::connection>> c = Acquire();
    if (!c.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.statements;
      ++stats_.errors;
      stats_.last_failed = true;
      if (!absl::IsDeadlineExceeded(c.status())) {
        stats_.last_error = std::string(c.status().message());
      }
      return c.status();
    }
    absl::Status result;
    try {
      ScopedRunMode mode(&run_mode_);
      result = fn(**c);
    } catch (const std::exception& e) {
      result = FromPqxx(e);
    }
    const bool broken = result.code() == absl::StatusCode::kUnavailable;
    Release(*std::move(c), broken);
    {
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.statements;
      if (!result.ok()) ++stats_.errors;
      // Only a failure to reach the server says anything about its health.
      stats_.last_failed = broken || absl::IsDeadlineExceeded(result);
      if (!stats_.last_failed) stats_.last_ok = absl::Now();
      if (stats_.last_failed) stats_.last_error = std::string(result.message());
    }
    if (broken && idempotent && attempt == 0) {
      ZUN_LOG(kDb, info, "database connection broken, retrying once: {}",
              result.message());
      continue;
    }
    return result;
  }
}

}  // namespace zun::db
