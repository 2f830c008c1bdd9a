// MemCapsuleStore held to the CapsuleStore conformance suite that
// PgCapsuleStore passes on PostgreSQL (integration/pg_capsule_store_test).
#include "db/mem_capsule_store.h"

#include <catch2/catch.hpp>

#include "tests/support/capsule_store_conformance.h"

namespace zun::testing {
namespace {

TEST_CASE("CapsuleStore conformance: MemCapsuleStore") {
  db::MemCapsuleStore store;
  int64_t next_id = 1;
  StoreTarget t;
  t.store = &store;
  t.create = [&](const capsule::Capsule& c) {
    capsule::Capsule stored = c;  // ids as the database assigns them
    stored.record.id = next_id++;
    for (auto* list : {&stored.init_containers, &stored.containers}) {
      for (auto& k : *list) {
        k.id = next_id++;
        k.capsule_id = stored.record.id;
      }
    }
    store.Put(stored);
    return stored;
  };
  RunCapsuleStoreConformance(t);
}

}  // namespace
}  // namespace zun::testing
