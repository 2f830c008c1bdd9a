// File: schema.h
// The database schema zun-agent works against: Zun's own schema at alembic
// head 3f2b36231bee (every table, column, key and index of Zun's migration
// chain, MySQL types translated to PostgreSQL), created and upgraded by
// `zun-agent --config-file FILE db-sync`. Migrations are numbered and
// recorded in `zun_agent_schema_version`; db-sync applies the missing ones in
// order, each in its own transaction under an advisory lock, so it is
// idempotent and safe to run concurrently. It records Zun's revision in
// `alembic_version`, and refuses a database whose `alembic_version` names
// another revision (zun-db-manage must bring it to head first).
//
// The agent adds to Zun's schema only: volume_mapping.read_only (capsule
// volumeMounts readOnly, default false) and indexes on container.host,
// container.capsule_id and compute_node.hostname. docs/db-contract.md lists
// every table and column the agent reads or writes;
// tests/data/zun_schema_columns.txt every column of Zun's schema.
#pragma once

#include <string>
#include <vector>

namespace zun::db {

struct Migration {
  int version;
  const char* description;
  std::vector<std::string> statements;
};

// The Zun schema revision this schema matches (alembic_version).
extern const char kZunAlembicRevision[];

// Every migration, in version order.
const std::vector<Migration>& Migrations();
// The newest schema version this build knows.
int LatestSchemaVersion();

}  // namespace zun::db
