// Invalid capsules as rows in the database (where the agent reads them
// from): each becomes Error with a clear status_reason, and nothing is
// created in the runtime or left behind.
#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/uuid.h"
#include "tests/support/agent_harness.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

struct Case {
  std::string what;
  std::function<void(capsule::Capsule&)> spoil;
  std::string reason;           // a part of the expected status_reason
  std::string column_sql = "";  // SET clause for the child row, if any
};

TEST_CASE(
    "invalid capsules become Error with a clear reason and create "
    "nothing") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  const std::vector<Case> cases = {
      {"empty image", [](capsule::Capsule& c) { c.containers[0].image = ""; },
       "image"},
      {"negative cpu", [](capsule::Capsule& c) { c.containers[0].cpu = -1; },
       "cpu"},
      {"NaN cpu", [](capsule::Capsule&) {}, "cpu", "cpu = 'NaN'"},
      {"infinite cpu", [](capsule::Capsule&) {}, "cpu", "cpu = 'Infinity'"},
      {"huge cpu", [](capsule::Capsule& c) { c.containers[0].cpu = 1e12; },
       "cpu"},
      {"negative memory",
       [](capsule::Capsule& c) { c.containers[0].memory = "-5"; }, "memory"},
      {"huge memory",
       [](capsule::Capsule& c) {
         c.containers[0].memory = "99999999999999999999";
       },
       "memory"},
      {"memory not a number",
       [](capsule::Capsule& c) { c.containers[0].memory = "lots"; }, "memory"},
      {"environment name with =",
       [](capsule::Capsule& c) {
         c.containers[0].environment = {{"A=B", "x"}};
       },
       "environment"},
      {"duplicate container names",
       [](capsule::Capsule& c) {
         c.containers.push_back(c.containers[0]);
         c.containers[1].uuid = "";
       },
       "name"},
      {"privileged when not allowed",
       [](capsule::Capsule& c) { c.containers[0].privileged = true; },
       "privileged"},
      {"unknown runtime",
       [](capsule::Capsule& c) { c.record.runtime = "kata"; }, "runtime"},
      {"workdir not absolute",
       [](capsule::Capsule& c) { c.containers[0].workdir = "../etc"; },
       "workdir"},
  };
  std::vector<std::pair<const Case*, capsule::Capsule>> sent;
  for (const Case& k : cases) {
    capsule::Capsule c;
    c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
    k.spoil(c);
    for (auto& child : c.containers) {
      if (child.uuid.empty()) child.uuid = NewUuid4();
    }
    c = h.CreateCapsule(c);
    if (!k.column_sql.empty()) {
      h.db().Exec("UPDATE container SET " + k.column_sql + " WHERE uuid = '" +
                  c.containers[0].uuid + "'");
    }
    REQUIRE(h.CastCreate(c).ok());
    sent.emplace_back(&k, c);
  }
  // Volumes the agent refuses: a path with '..' and an id that escapes.
  capsule::Capsule vol;
  vol.containers = {AgentHarness::Child("v", {"sleep", "3600"})};
  vol = h.CreateCapsule(vol);
  REQUIRE(
      h.api()
          .AddLocalVolume(vol.containers[0].uuid, "/data/../../etc", false, "p")
          .ok());
  REQUIRE(h.CastCreate(vol).ok());
  static const Case kVolume{"volume path with ..", nullptr, "path"};
  sent.emplace_back(&kVolume, vol);

  for (const auto& [k, c] : sent) {
    CAPTURE(k->what);
    REQUIRE(PollUntil(
        [&, uuid = c.uuid()] { return h.StatusOf(uuid) == "Error"; }));
    auto row = h.CapsuleRow(c.uuid());
    REQUIRE(row);
    const std::string reason = (*row)["status_reason"].value_or("");
    CAPTURE(reason);
    CHECK(absl::StrContains(absl::AsciiStrToLower(reason), k->reason));
    CHECK_FALSE((*row)["task_state"]);
  }
  // Nothing reached the runtime, nothing is left.
  auto sandboxes = h.cri().ListPodSandbox({});
  REQUIRE(sandboxes.ok());
  CHECK(sandboxes->empty());
  auto containers = h.cri().ListContainers({});
  REQUIRE(containers.ok());
  CHECK(containers->empty());
}

}  // namespace
}  // namespace zun::testing
