// File: schema.h
// The database schema zun-agent works against: Zun's table and column names
// (contract §4; MySQL types translated to PostgreSQL), created and upgraded
// by `zun-agent --config-file FILE db-sync`. Migrations are numbered and
// recorded in `zun_agent_schema_version`; db-sync applies the missing ones in
// order, each in its own transaction under an advisory lock, so it is
// idempotent and safe to run concurrently.
//
// Tables (docs/db-contract.md has every column):
//   container                 capsules (type 1), capsule containers (2) and
//                             init containers (3); children reference the
//                             capsule by capsule_id ON DELETE CASCADE
//   container_actions         one row per API action on a container
//   container_actions_events  agent-side events of an action
//   zun_service               heartbeat (host, binary) unique
//   compute_node              node inventory, one row per hostname
//   registry                  private registry credentials
//   volume, volume_mapping    volumes and their mounts into containers
#pragma once

#include <string>
#include <vector>

namespace zun::db {

struct Migration {
  int version;
  const char* description;
  std::vector<std::string> statements;
};

// Every migration, in version order.
const std::vector<Migration>& Migrations();
// The newest schema version this build knows.
int LatestSchemaVersion();

}  // namespace zun::db
