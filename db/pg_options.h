// File: pg_options.h
// Connection settings of the PostgreSQL stores (no libpqxx here, so users of
// the stores need not see it).
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace zun::db {

struct PgOptions {
  // libpq URI or key=value string; SQLAlchemy's "postgresql+driver://" is
  // accepted too ([database] connection of zun.conf).
  std::string connection;
  int pool_size = 4;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration statement_timeout = absl::Seconds(10);
  absl::Duration acquire_timeout = absl::Seconds(10);
  // The server connection is the client's for one transaction only
  // (PgBouncer pool_mode = transaction): no named prepared statements and
  // no session settings; each transaction sets its own timeouts and time
  // zone with SET LOCAL (one more round trip per transaction).
  bool transaction_pooling = false;
};

// Counters of a pool since it was made (monotonic).
struct PoolStats {
  uint64_t statements = 0;  // Run() calls
  uint64_t errors = 0;      // Run() calls that returned an error
  uint64_t connects = 0;    // connections opened (the first ones included)
  uint64_t connect_errors = 0;
  uint64_t broken = 0;  // connections dropped as broken (reconnect follows)
  // When a Run() last succeeded, and whether the latest Run() failed.
  absl::Time last_ok = absl::InfinitePast();
  bool last_failed = false;
  // Why the latest failure to reach the server failed (empty if none yet).
  std::string last_error;
};

}  // namespace zun::db
