// The walking skeleton end to end: the real oslo.messaging client casts to
// the zun-agent process over RabbitMQ, the agent drives fake-cri (a process)
// and records the outcome in PostgreSQL.
#include <catch2/catch.hpp>

#include "capsule/labels.h"
#include "tests/support/agent_harness.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

TEST_CASE("a capsule is created through RabbitMQ and deleted again") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c =
      h.CreateCapsuleRows("skeleton", {"busybox", "nginx:1.25"});
  REQUIRE(h.StatusOf(c.uuid()) == "Creating");

  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));

  auto capsule_row = h.CapsuleRow(c.uuid());
  REQUIRE(capsule_row);
  CHECK((*capsule_row)["host"] == h.host());
  CHECK_FALSE((*capsule_row)["task_state"].has_value());
  const std::string sandbox_id = (*capsule_row)["container_id"].value_or("");
  REQUIRE_FALSE(sandbox_id.empty());
  CHECK_THAT((*capsule_row)["addresses"].value_or(""),
             Catch::Contains("\"addr\""));

  auto children = h.ChildRows(c.uuid());
  REQUIRE(children.size() == 2);
  cri::ContainerFilter running;
  running.sandbox_id = sandbox_id;
  running.state = cri::ContainerState::kRunning;
  auto in_runtime = h.cri().ListContainers(running);
  REQUIRE(in_runtime.ok());
  REQUIRE(in_runtime->size() == 2);
  for (auto& child : children) {
    CHECK(child["status"] == "Running");
    const std::string id = child["container_id"].value_or("");
    REQUIRE_FALSE(id.empty());
    bool found = false;
    for (const auto& ctr : *in_runtime) found |= ctr.id == id;
    CHECK(found);
  }
  // The sandbox carries the ownership labels recovery relies on.
  auto sb = h.cri().PodSandboxStatus(sandbox_id);
  REQUIRE(sb.ok());
  CHECK(sb->sandbox.labels.at(std::string(capsule::kLabelHost)) == h.host());
  CHECK(sb->sandbox.labels.at(std::string(capsule::kLabelCapsuleUuid)) ==
        c.uuid());

  REQUIRE(h.CastDelete(c).ok());
  REQUIRE(PollUntil([&] { return !h.CapsuleRow(c.uuid()).has_value(); }));
  CHECK(h.ChildRows(c.uuid()).empty());
  auto left = h.cri().ListPodSandbox({});
  REQUIRE(left.ok());
  CHECK(left->empty());
  auto containers = h.cri().ListContainers({});
  REQUIRE(containers.ok());
  CHECK(containers->empty());

  // SIGTERM stops the agent cleanly.
  auto code = h.StopAgent();
  REQUIRE(code.ok());
  CHECK(*code == 0);
}

TEST_CASE(
    "a capsule whose image cannot be pulled ends in Error with a reason") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c = h.CreateCapsuleRows(
      "broken", {"busybox", "registry.example/pull-fail:1"});
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Error"; }));
  auto row = h.CapsuleRow(c.uuid());
  CHECK_THAT((*row)["status_reason"].value_or(""),
             Catch::Contains("pull-fail") && Catch::Contains("failed"));
  CHECK_FALSE((*row)["task_state"].has_value());
  // Rolled back: nothing left in the runtime.
  auto left = h.cri().ListPodSandbox({});
  REQUIRE(left.ok());
  CHECK(left->empty());
}

}  // namespace
}  // namespace zun::testing
