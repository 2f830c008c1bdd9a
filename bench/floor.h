// File: floor.h
// What the servers alone need for a workload (the baseline of scenario 1):
// RabbitMQ moving `messages` bodies of `body_bytes` through one queue
// (publish with confirms, consume with acks), and PostgreSQL committing
// `commits` single-row updates from `clients` connections.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "db/pg_options.h"

namespace zun::bench {

absl::Duration RabbitFloor(const std::string& amqp_url, int messages,
                           size_t body_bytes);
absl::Duration PostgresFloor(const db::PgOptions& db, int commits, int clients);

}  // namespace zun::bench
