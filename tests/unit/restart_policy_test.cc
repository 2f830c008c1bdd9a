#include "capsule/restart_policy.h"

#include <catch2/catch.hpp>

#include "capsule/status_sync.h"

namespace zun::capsule {
namespace {

using Kind = RestartPolicy::Kind;

TEST_CASE("restart policies decide by exit code and restart count") {
  RestartPolicy no = RestartPolicy::FromMap({{"Name", "no"}}, Kind::kAlways);
  CHECK_FALSE(no.ShouldRestart(1, 0));
  RestartPolicy always =
      RestartPolicy::FromMap({{"Name", "always"}}, Kind::kNo);
  CHECK(always.ShouldRestart(0, 100));
  CHECK(always.ShouldRestart(1, 100));
  RestartPolicy unless =
      RestartPolicy::FromMap({{"Name", "unless-stopped"}}, Kind::kNo);
  CHECK(unless.ShouldRestart(0, 3));
  RestartPolicy onf = RestartPolicy::FromMap(
      {{"Name", "on-failure"}, {"MaximumRetryCount", "2"}}, Kind::kNo);
  CHECK_FALSE(onf.ShouldRestart(0, 0));
  CHECK(onf.ShouldRestart(1, 0));
  CHECK(onf.ShouldRestart(1, 1));
  CHECK_FALSE(onf.ShouldRestart(1, 2));
  RestartPolicy onf_unlimited = RestartPolicy::FromMap(
      {{"Name", "on-failure"}, {"MaximumRetryCount", "0"}}, Kind::kNo);
  CHECK(onf_unlimited.ShouldRestart(3, 1000));
  CHECK(RestartPolicy::FromMap({}, Kind::kAlways).kind == Kind::kAlways);
}

TEST_CASE(
    "regular containers follow the capsule, init containers must finish") {
  Capsule c;
  c.record.restart_policy = {{"Name", "always"}};
  ContainerRecord regular;
  regular.container_type = ContainerType::kCapsuleContainer;
  // Zun API bug: regular containers get on-failure:10 written in.
  regular.restart_policy = {{"Name", "on-failure"},
                            {"MaximumRetryCount", "10"}};
  CHECK(PolicyFor(c, regular).kind == Kind::kAlways);
  ContainerRecord init;
  init.container_type = ContainerType::kCapsuleInitContainer;
  init.restart_policy = {{"Name", "on-failure"}, {"MaximumRetryCount", "10"}};
  CHECK(PolicyFor(c, init).kind == Kind::kOnFailure);
  CHECK(PolicyFor(c, init).max_retries == 10);
  init.restart_policy.clear();
  CHECK(PolicyFor(c, init).kind == Kind::kOnFailure);
  c.record.restart_policy = {{"Name", "no"}};
  CHECK(PolicyFor(c, init).kind == Kind::kNo);
}

TEST_CASE("backoff doubles from 10 s to 5 min") {
  BackoffConfig cfg;
  CHECK(RestartDelay(cfg, 0) == absl::Seconds(10));
  CHECK(RestartDelay(cfg, 1) == absl::Seconds(20));
  CHECK(RestartDelay(cfg, 2) == absl::Seconds(40));
  CHECK(RestartDelay(cfg, 5) == absl::Minutes(5));
  CHECK(RestartDelay(cfg, 1000) == absl::Minutes(5));
}

Capsule Pod(const std::string& policy) {
  Capsule c;
  c.record.uuid = "cap";
  c.record.status = "Running";
  c.record.restart_policy = {{"Name", policy}};
  ContainerRecord k;
  k.uuid = "k1";
  k.name = "web";
  k.container_type = ContainerType::kCapsuleContainer;
  k.status = "Running";
  c.containers.push_back(k);
  return c;
}

ObservedPod Observed(cri::ContainerState state, int exit_code,
                     const std::string& reason, uint32_t attempt = 0,
                     absl::Duration ran = absl::Seconds(1)) {
  ObservedPod p;
  p.present = true;
  p.sandbox_id = "sb";
  p.state = cri::SandboxState::kReady;
  p.ip = "10.0.0.5";
  ObservedContainer o;
  o.id = "ctr";
  o.attempt = attempt;
  o.state = state;
  o.exit_code = exit_code;
  o.reason = reason;
  o.started_at = absl::ToUnixNanos(absl::FromUnixSeconds(1000));
  o.finished_at = absl::ToUnixNanos(absl::FromUnixSeconds(1000) + ran);
  p.containers["k1"] = o;
  return p;
}

TEST_CASE("status sync maps runtime states to Zun rows") {
  SyncOptions opts;
  auto running = PlanSync(
      Pod("always"), Observed(cri::ContainerState::kRunning, 0, ""), {}, opts);
  CHECK(running.capsule.status == "Running");
  CHECK(running.capsule.container_id == "sb");
  CHECK(running.children["k1"].status == "Running");
  CHECK(running.children["k1"].container_id == "ctr");
  CHECK(running.addresses["default"][0]["addr"] == "10.0.0.5");
  CHECK(running.restarts.empty());

  auto done = PlanSync(Pod("no"),
                       Observed(cri::ContainerState::kExited, 0, "Completed"),
                       {}, opts);
  CHECK(done.children["k1"].status == "Stopped");
  CHECK(done.capsule.status == "Stopped");

  auto oom = PlanSync(Pod("no"),
                      Observed(cri::ContainerState::kExited, 137, "OOMKilled"),
                      {}, opts);
  CHECK(oom.children["k1"].status == "Error");
  CHECK(oom.children["k1"].status_reason == "exited with code 137 (OOMKilled)");
  CHECK(oom.capsule.status == "Error");
  CHECK_THAT(*oom.capsule.status_reason,
             Catch::Contains("'web'") && Catch::Contains("137"));

  auto gone = PlanSync(Pod("always"), ObservedPod{}, {}, opts);
  CHECK(gone.pod_gone);
}

TEST_CASE("exited containers are restarted after their backoff") {
  SyncOptions opts;
  auto first =
      PlanSync(Pod("always"),
               Observed(cri::ContainerState::kExited, 1, "Error"), {}, opts);
  REQUIRE(first.restarts.size() == 1);
  CHECK(first.restarts[0].next_attempt == 1);
  CHECK(first.restarts[0].at ==
        absl::FromUnixSeconds(1001) + absl::Seconds(10));
  CHECK(first.children["k1"].status == "Restarting");
  CHECK(first.capsule.status == "Running");
  // Third restart: 40 s, and the count shows.
  auto third =
      PlanSync(Pod("always"),
               Observed(cri::ContainerState::kExited, 1, "Error", 2), {}, opts);
  CHECK(third.restarts[0].at ==
        absl::FromUnixSeconds(1001) + absl::Seconds(40));
  CHECK(third.children["k1"].status_detail == "restarts: 2");
  // Ten minutes of running resets the backoff.
  auto reset = PlanSync(
      Pod("always"),
      Observed(cri::ContainerState::kExited, 1, "Error", 5, absl::Minutes(11)),
      {}, opts);
  CHECK(reset.restarts[0].at ==
        absl::FromUnixSeconds(1000) + absl::Minutes(11) + absl::Seconds(10));
}

}  // namespace
}  // namespace zun::capsule
