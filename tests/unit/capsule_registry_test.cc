// CapsuleRegistry: the agent's in-memory view of this host's capsules.
#include "agent/capsule_registry.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

namespace zun::agent {
namespace {

capsule::Capsule Numbered(int i) {
  capsule::Capsule c;
  c.record.uuid = absl::StrFormat("00000000-0000-0000-0000-%012d", i);
  capsule::ContainerRecord child;
  child.uuid = absl::StrFormat("11111111-0000-0000-0000-%012d", i);
  c.containers.push_back(child);
  return c;
}

TEST_CASE("ForEach sees every capsule once, in uuid order, across batches") {
  // Batches hold 64 capsules: none, one, a whole batch, one more, several.
  for (int n : {0, 1, 63, 64, 65, 128, 200}) {
    CapsuleRegistry registry;
    std::vector<std::string> want;
    for (int i = n - 1; i >= 0; --i) registry.Put(Numbered(i));
    for (int i = 0; i < n; ++i) want.push_back(Numbered(i).uuid());
    std::vector<std::string> seen;
    registry.ForEach(
        [&](const capsule::Capsule& c) { seen.push_back(c.uuid()); });
    INFO("capsules: " << n);
    CHECK(seen == want);
  }
}

TEST_CASE("ForEach after removals and patches sees the registry as it is") {
  CapsuleRegistry registry;
  for (int i = 0; i < 150; ++i) registry.Put(Numbered(i));
  for (int i = 0; i < 150; i += 3) registry.Remove(Numbered(i).uuid());
  registry.ApplyPatches(
      {std::move(db::RowPatch(Numbered(100).uuid()).Status("Running"))});
  int seen = 0, running = 0;
  registry.ForEach([&](const capsule::Capsule& c) {
    ++seen;
    running += c.record.status.value_or("") == "Running";
  });
  CHECK(seen == 100);
  CHECK(running == 1);
}

}  // namespace
}  // namespace zun::agent
