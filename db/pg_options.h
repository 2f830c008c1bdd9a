// File: pg_options.h
// Connection settings of the PostgreSQL stores (no libpqxx here, so users of
// the stores need not see it).
#pragma once

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
};

}  // namespace zun::db
