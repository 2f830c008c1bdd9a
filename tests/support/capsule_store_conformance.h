// File: capsule_store_conformance.h
// One suite of CapsuleStore behaviours (db/capsule_store.h), run against
// MemCapsuleStore (unit) and PgCapsuleStore on Zun's full schema
// (integration), so that tests on the in-memory store predict PostgreSQL:
// load and list, claims, row patches, deletes, actions, the service
// heartbeat, the compute node, briefs and versions.
#pragma once

#include <functional>

#include "capsule/model.h"
#include "db/capsule_store.h"

namespace zun::testing {

struct StoreTarget {
  db::CapsuleStore* store = nullptr;
  // Inserts a capsule's rows as zun-api does (host and task_state unset)
  // and returns the capsule as stored.
  std::function<capsule::Capsule(const capsule::Capsule&)> create;
};

// Runs every behaviour; uses Catch2 assertions (call inside a TEST_CASE).
void RunCapsuleStoreConformance(const StoreTarget& target);

}  // namespace zun::testing
