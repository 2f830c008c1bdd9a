// An in-place upgrade of a node, with the previous release's real zun-agent
// (built from git by scripts/build-previous-release.sh; its path in
// ZUN_PREVIOUS_AGENT): its db-sync makes the schema, it runs capsules, this
// release's db-sync migrates the schema under it, and this release's agent
// restarted in its place adopts every capsule without touching a container.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cri/fake_control_client.h"
#include "db/schema.h"
#include "tests/support/agent_harness.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

std::string PreviousAgent() {
  const char* path = std::getenv("ZUN_PREVIOUS_AGENT");
  REQUIRE(path != nullptr);
  return path;
}

// `zun-agent --config-file CONF db-sync` of `binary`; its output.
std::string DbSync(const std::string& binary, const AgentHarness& h) {
  auto r = RunCommand({binary, "--config-file", h.config_path(), "db-sync"},
                      absl::Seconds(60));
  REQUIRE(r.ok());
  INFO(r->output);
  REQUIRE(r->exit_code == 0);
  return r->output;
}

int SchemaVersionOf(AgentHarness& h) {
  auto rows =
      h.db().Query("SELECT MAX(version) AS v FROM zun_agent_schema_version");
  return std::stoi(*rows[0]["v"]);
}

// The CRI calls that make, stop or remove something, by method.
std::map<std::string, int64_t> MutatingCalls(
    cri::fake::FakeCriControlClient& control) {
  auto stats = control.Stats();
  REQUIRE(stats.ok());
  std::map<std::string, int64_t> out;
  for (const char* m : {"RunPodSandbox", "StopPodSandbox", "RemovePodSandbox",
                        "CreateContainer", "StartContainer", "StopContainer",
                        "RemoveContainer"}) {
    auto it = stats->calls.find(m);
    out[m] = it == stats->calls.end() ? 0 : it->second;
  }
  return out;
}

int64_t CallsOf(cri::fake::FakeCriControlClient& control,
                const std::string& method) {
  auto stats = control.Stats();
  REQUIRE(stats.ok());
  auto it = stats->calls.find(method);
  return it == stats->calls.end() ? 0 : it->second;
}

// What identifies a capsule's running containers: sandbox id and, per
// child row, container id and status.
std::map<std::string, std::string> Identity(AgentHarness& h,
                                            const capsule::Capsule& c) {
  std::map<std::string, std::string> out;
  auto row = h.CapsuleRow(c.uuid());
  REQUIRE(row);
  out["capsule"] = *(*row)["status"] + " " + *(*row)["container_id"];
  for (auto& child : h.ChildRows(c.uuid())) {
    out[*child["name"]] = *child["status"] + " " +
                          child["container_id"].value_or("") + " " +
                          child["started_at"].value_or("");
  }
  return out;
}

capsule::Capsule Make(AgentHarness& h, bool with_init, const char* policy) {
  capsule::Capsule c;
  c.record.restart_policy = {{"Name", policy}, {"MaximumRetryCount", "0"}};
  if (with_init) {
    c.init_containers = {
        AgentHarness::Child("init", {"sh", "-c", "exit 0"}, true)};
  }
  c.containers = {AgentHarness::Child("app", {"sleep", "3600"}),
                  AgentHarness::Child("sidecar", {"sleep", "3600"})};
  return h.CreateCapsule(c);
}

bool Running(AgentHarness& h, const capsule::Capsule& c) {
  return PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; },
                   absl::Seconds(60), absl::Milliseconds(50));
}

TEST_CASE(
    "upgrade in place from the previous release: db-sync migrates under the "
    "running agent, the new agent adopts every capsule untouched") {
  const std::string previous = PreviousAgent();
  const std::string current = BinDir() + "/zun-agent";
  HarnessOptions o;
  o.sync_schema = false;
  o.start_agent = false;
  o.agent_binary = previous;
  AgentHarness h(o);
  cri::fake::FakeCriControlClient control(h.cri_endpoint());

  // The previous release installs its schema and runs capsules.
  DbSync(previous, h);
  const int old_schema = SchemaVersionOf(h);
  REQUIRE(old_schema < db::LatestSchemaVersion());
  h.StartAgent();
  REQUIRE(h.WaitServing());
  std::vector<capsule::Capsule> capsules = {Make(h, true, "always"),
                                            Make(h, false, "on-failure"),
                                            Make(h, false, "no")};
  for (const auto& c : capsules) REQUIRE(h.CastCreate(c).ok());
  for (const auto& c : capsules) REQUIRE(Running(h, c));

  // This release refuses the old schema rather than run against it.
  {
    auto r = RunCommand({current, "--config-file", h.config_path()},
                        absl::Seconds(60));
    REQUIRE(r.ok());
    INFO(r->output);
    CHECK(r->exit_code != 0);
    CHECK(absl::StrContains(r->output, "db-sync"));
  }

  // The upgrade's db-sync runs while the previous agent serves; that agent
  // keeps working on the migrated schema.
  DbSync(current, h);
  CHECK(SchemaVersionOf(h) == db::LatestSchemaVersion());
  auto applied = h.db().Query(
      "SELECT version, agent_version FROM zun_agent_schema_version "
      "ORDER BY version");
  REQUIRE(applied.size() == static_cast<size_t>(db::LatestSchemaVersion()));
  for (auto& row : applied) {
    CAPTURE(*row["version"]);
    if (std::stoi(*row["version"]) <= old_schema) {
      CHECK(!row["agent_version"].has_value());
    } else {
      CHECK(row["agent_version"] == ZUN_AGENT_VERSION);
    }
  }
  capsules.push_back(Make(h, true, "always"));
  REQUIRE(h.CastCreate(capsules.back()).ok());
  REQUIRE(Running(h, capsules.back()));

  // Restart on the new binary.
  std::map<std::string, std::map<std::string, std::string>> before;
  for (const auto& c : capsules) before[c.uuid()] = Identity(h, c);
  auto stopped = h.StopAgent();
  REQUIRE(stopped.ok());
  CHECK(*stopped == 0);
  const auto calls_before = MutatingCalls(control);
  const int64_t relists_before = CallsOf(control, "ListContainers");
  h.set_agent_binary(current);
  h.StartAgent();
  REQUIRE(h.WaitServing());
  // Recovery's relist and at least one periodic one have run, and a
  // container_show has looked at every capsule.
  REQUIRE(PollUntil(
      [&] { return CallsOf(control, "ListContainers") >= relists_before + 2; },
      absl::Seconds(60)));
  for (const auto& c : capsules) {
    auto shown =
        h.Call("container_show", {{"container", h.CapsulePrimitive(c)}});
    REQUIRE(shown.ok());
  }
  CHECK(MutatingCalls(control) == calls_before);
  for (const auto& c : capsules) {
    CAPTURE(c.uuid());
    CHECK(Identity(h, c) == before[c.uuid()]);
  }
  auto sandboxes = h.cri().ListPodSandbox({});
  REQUIRE(sandboxes.ok());
  CHECK(sandboxes->size() == capsules.size());

  // Adopted, not just left alone: the new agent deletes an old capsule and
  // runs a new one.
  REQUIRE(h.CastDelete(capsules.front()).ok());
  REQUIRE(PollUntil([&] { return !h.CapsuleRow(capsules.front().uuid()); },
                    absl::Seconds(60)));
  capsule::Capsule fresh = Make(h, false, "always");
  REQUIRE(h.CastCreate(fresh).ok());
  REQUIRE(Running(h, fresh));
  sandboxes = h.cri().ListPodSandbox({});
  REQUIRE(sandboxes.ok());
  CHECK(sandboxes->size() == capsules.size());
}

}  // namespace
}  // namespace zun::testing
