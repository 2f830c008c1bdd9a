// File: floor.h
// What the servers alone need for a workload (the baseline of scenario 1):
// RabbitMQ moving `messages` bodies of `body_bytes` through one queue
// (publish with confirms, consume with acks), and PostgreSQL committing
// `commits` single-row updates from `clients` connections.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "db/pg_options.h"

namespace zun::bench {

absl::Duration RabbitFloor(const std::string& amqp_url, int messages,
                           size_t body_bytes);
absl::Duration PostgresFloor(const db::PgOptions& db, int commits, int clients);

// The database's share of a paced create: `n` "capsules" arriving at `rate`
// per second, each committing two single-row updates one after the other
// (the agent's claim and Running commits), from `clients` connections.
// Returns each one's latency from its arrival to its second commit, ms.
std::vector<double> PostgresPacedMs(const db::PgOptions& db, int n, double rate,
                                    int clients);

}  // namespace zun::bench
