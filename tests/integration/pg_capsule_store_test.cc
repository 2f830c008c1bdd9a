// PgCapsuleStore held to the CapsuleStore conformance suite, on a scratch
// database with Zun's full schema (db-sync), capsules inserted as zun-api
// inserts them (db::ApiStore).
#include "db/pg_capsule_store.h"

#include <catch2/catch.hpp>

#include "db/api_store.h"
#include "tests/support/capsule_store_conformance.h"
#include "tests/support/scratch_db.h"

namespace zun::testing {
namespace {

TEST_CASE("CapsuleStore conformance: PgCapsuleStore") {
  ScratchDatabase db;
  db::PgCapsuleStore store(db.options());
  db::ApiStore api(db.options());
  StoreTarget t;
  t.store = &store;
  t.create = [&](const capsule::Capsule& c) {
    absl::StatusOr<capsule::Capsule> stored = api.CreateCapsule(c);
    REQUIRE(stored.ok());
    return *stored;
  };
  RunCapsuleStoreConformance(t);
}

}  // namespace
}  // namespace zun::testing
