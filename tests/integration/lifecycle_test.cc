// The capsule lifecycle through the agent process: RabbitMQ + PostgreSQL +
// fake-cri scripted workloads.
#include <catch2/catch.hpp>
#include <cstdio>

#include "absl/strings/match.h"
#include "capsule/labels.h"
#include "tests/support/agent_harness.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

// Restart backoff accelerated 50x (0.2 s doubling to 1 s, reset after 5 s).
HarnessOptions FastBackoff() {
  HarnessOptions o;
  o.extra_config =
      "[compute]\nrestart_backoff_initial = 0.2\nrestart_backoff_max = 1\n"
      "restart_backoff_reset = 5\n";
  return o;
}

cri::ContainerStatusInfo StatusIn(AgentHarness& h, const std::string& id) {
  auto st = h.cri().ContainerStatus(id);
  REQUIRE(st.ok());
  return *st;
}

TEST_CASE(
    "init containers run in order, each to completion, before the containers") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  c.init_containers = {
      AgentHarness::Child("init-a", {"sh", "-c", "sleep 0.5; exit 0"}, true),
      AgentHarness::Child("init-b", {"sh", "-c", "sleep 0.3"}, true)};
  c.containers = {AgentHarness::Child("app", {"sleep", "3600"}),
                  AgentHarness::Child("sidecar", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  auto rows = h.ChildRows(c.uuid());
  REQUIRE(rows.size() == 4);
  // Rows come in id order: init-a, init-b, app, sidecar.
  CHECK(rows[0]["status"] == "Stopped");
  CHECK(rows[1]["status"] == "Stopped");
  auto a = StatusIn(h, *rows[0]["container_id"]);
  auto b = StatusIn(h, *rows[1]["container_id"]);
  auto app = StatusIn(h, *rows[2]["container_id"]);
  auto side = StatusIn(h, *rows[3]["container_id"]);
  CHECK(a.exit_code == 0);
  CHECK(a.finished_at <= b.started_at);
  CHECK(b.finished_at <= app.started_at);
  CHECK(b.finished_at <= side.started_at);
  CHECK(app.state == cri::ContainerState::kRunning);
}

TEST_CASE("a failing init container fails the capsule with a reason") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  c.record.restart_policy = {{"Name", "no"}, {"MaximumRetryCount", "0"}};
  c.init_containers = {
      AgentHarness::Child("migrate", {"sh", "-c", "exit 4"}, true)};
  c.containers = {AgentHarness::Child("app", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Error"; }));
  auto row = h.CapsuleRow(c.uuid());
  CHECK_THAT(*(*row)["status_reason"],
             Catch::Contains("'migrate'") && Catch::Contains("code 4"));
  CHECK(h.cri().ListPodSandbox({})->empty());
}

TEST_CASE("restart policies: backoff, counts, exit codes (accelerated clock)") {
  AgentHarness h(FastBackoff());
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  c.record.restart_policy = {{"Name", "on-failure"},
                             {"MaximumRetryCount", "3"}};
  c.containers = {
      AgentHarness::Child("crashy", {"sh", "-c", "sleep 0.2; exit 3"}),
      AgentHarness::Child("steady", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  // Three restarts (0.2 + 0.4 + 0.8 s of backoff), then it stays failed.
  REQUIRE(PollUntil(
      [&] {
        auto rows = h.ChildRows(c.uuid());
        return rows.size() == 2 && rows[0]["status"] == "Error" &&
               rows[0]["status_detail"] == "restarts: 3; last exit 3";
      },
      absl::Seconds(60)));
  auto rows = h.ChildRows(c.uuid());
  CHECK(rows[0]["status_reason"] == "exited with code 3 (Error)");
  CHECK(rows[1]["status"] == "Running");
  auto st = StatusIn(h, *rows[0]["container_id"]);
  CHECK(st.attempt == 3);
  // The other container still runs: the capsule is Running.
  CHECK(h.StatusOf(c.uuid()) == "Running");
}

TEST_CASE("a container killed for memory restarts under policy always") {
  AgentHarness h(FastBackoff());
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  capsule::ContainerRecord hog = AgentHarness::Child("hog", {"sleep", "3600"});
  hog.environment = {{"FAKE_CRI_SCRIPT", "oom after=300ms"}};
  c.containers = {hog};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  // At least two restarts, each after an OOM kill (a slow poll may see a
  // later restart than the second).
  REQUIRE(PollUntil([&] {
    auto rows = h.ChildRows(c.uuid());
    if (rows.empty() || !rows[0]["status_detail"]) return false;
    int restarts = 0;
    return std::sscanf(rows[0]["status_detail"]->c_str(),
                       "restarts: %d; last exit 137", &restarts) == 1 &&
           absl::EndsWith(*rows[0]["status_detail"], "; last exit 137") &&
           restarts >= 2;
  }));
  auto rows = h.ChildRows(c.uuid());
  CHECK(h.StatusOf(c.uuid()) == "Running");
  CHECK((rows[0]["status"] == "Running" || rows[0]["status"] == "Restarting"));
}

TEST_CASE("a failure in the middle of a create rolls everything back") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  capsule::ContainerRecord bad = AgentHarness::Child("b", {"sleep", "3600"});
  bad.environment = {{"FAKE_CRI_SCRIPT", "start-fail"}};
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"}), bad};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Error"; }));
  CHECK_THAT(*(*h.CapsuleRow(c.uuid()))["status_reason"],
             Catch::Contains("starting container 'b'"));
  CHECK(h.cri().ListPodSandbox({})->empty());
  CHECK(h.cri().ListContainers({})->empty());
}

TEST_CASE("a delete that arrives during the create leaves nothing behind") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  c.init_containers = {AgentHarness::Child("wait", {"sleep", "600"}, true)};
  c.containers = {AgentHarness::Child("app", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  // The create is now waiting for the init container.
  REQUIRE(PollUntil([&] { return !h.cri().ListContainers({})->empty(); }));
  REQUIRE(h.CastDelete(c).ok());
  REQUIRE(PollUntil([&] { return !h.CapsuleRow(c.uuid()).has_value(); }));
  CHECK(h.cri().ListPodSandbox({})->empty());
}

TEST_CASE("200 capsules created at once all reach Running") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  std::vector<capsule::Capsule> capsules;
  std::vector<nlohmann::json> casts;
  for (int i = 0; i < 200; ++i) {
    capsule::Capsule c;
    c.containers = {AgentHarness::Child("a", {"sleep", "3600"}),
                    AgentHarness::Child("b", {"sleep", "3600"})};
    capsules.push_back(h.CreateCapsule(c));
    casts.push_back({{"method", "container_create"},
                     {"args", h.CreateArgs(capsules.back())}});
  }
  REQUIRE(h.CastMany(casts).ok());
  REQUIRE(PollUntil(
      [&] {
        auto rows = h.db().Query(
            "SELECT count(*) AS n FROM container WHERE container_type = 1 AND "
            "status = 'Running'");
        return rows[0]["n"] == "200";
      },
      absl::Seconds(120), absl::Milliseconds(250)));
  CHECK(h.cri().ListPodSandbox({})->size() == 200);
  CHECK(h.cri().ListContainers({})->size() == 400);
}

}  // namespace
}  // namespace zun::testing
