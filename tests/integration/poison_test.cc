// A create message that can never succeed must not loop: a capsule row the
// agent cannot decode fails with a reason, its message is acknowledged once,
// and the agent keeps serving other capsules.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/support/agent_harness.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

TEST_CASE("an undecodable capsule row fails once, and the agent goes on") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  capsule::Capsule bad;
  bad.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
  bad = h.CreateCapsule(bad);
  // A JSON column that is not JSON (a hand edit, another writer's bug).
  h.db().Exec("UPDATE container SET labels = '{not json' WHERE uuid = '" +
              bad.uuid() + "'");
  REQUIRE(h.CastCreate(bad).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(bad.uuid()) == "Error"; }));
  auto row = h.CapsuleRow(bad.uuid());
  REQUIRE(row.has_value());
  CHECK_THAT(row->at("status_reason").value_or(""),
             Catch::Contains("cannot claim the capsule"));
  CHECK_FALSE(row->at("task_state").has_value());

  // The next capsule is served; by then a redelivery loop would have
  // counted the bad create again and again.
  capsule::Capsule good;
  good.containers = {AgentHarness::Child("b", {"sleep", "3600"})};
  good = h.CreateCapsule(good);
  REQUIRE(h.CastCreate(good).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(good.uuid()) == "Running"; }));
  const std::string failed =
      R"(zun_agent_operations_total{operation="create",result="failed_permanent"})";
  CHECK(MetricOf(o.metrics_port, failed) == 1);
  CHECK(h.agent()->Running());
}

}  // namespace
}  // namespace zun::testing
