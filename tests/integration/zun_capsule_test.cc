// zun-capsule against a running agent (fake-cri): every sample template
// goes create -> Running -> show -> delete -> gone, with the rows the Zun
// API writes; bad templates and unreachable hosts fail cleanly.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "common/uuid.h"
#include "tests/support/agent_harness.h"
#include "tests/support/capsule_cli.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

int Count(AgentHarness& h, const std::string& sql) {
  auto rows = h.db().Query(sql);
  return std::stoi(*rows[0]["n"]);
}

TEST_CASE("zun-capsule round trip over every sample template") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  for (const char* sample :
       {"web.yaml", "pull.yaml", "minimal.json", "virtual-kubelet.json"}) {
    CAPTURE(sample);
    CommandResult created = ZunCapsule(
        h.config_path(), {"create", "-f", SampleTemplate(sample), "--json"});
    CAPTURE(created.output);
    REQUIRE(created.exit_code == 0);
    nlohmann::json j = JsonOf(created.output);
    REQUIRE(j.is_object());
    const std::string uuid = j["uuid"];
    const std::string name = j["name"];
    // The API's create action was recorded with the request id.
    CHECK(Count(h,
                "SELECT count(*) AS n FROM container_actions WHERE "
                "action = 'create' AND request_id LIKE 'req-%' AND "
                "container_uuid = '" +
                    uuid + "'") >= 1);

    CommandResult waited = ZunCapsule(
        h.config_path(),
        {"wait", name, "--status", "Running", "--timeout", "60", "--json"});
    CAPTURE(waited.output);
    REQUIRE(waited.exit_code == 0);

    CommandResult shown = ZunCapsule(h.config_path(), {"show", uuid, "--json"});
    REQUIRE(shown.exit_code == 0);
    nlohmann::json s = JsonOf(shown.output);
    CHECK(s["status"] == "Running");
    CHECK(s["host"] == h.host());
    CHECK_FALSE(s["addresses"].empty());
    for (const auto& c : s["containers"]) CHECK(c["status"] == "Running");
    for (const auto& c : s["init_containers"]) CHECK(c["status"] == "Stopped");

    CommandResult listed = ZunCapsule(h.config_path(), {"list"});
    REQUIRE(listed.exit_code == 0);
    CHECK(absl::StrContains(listed.output, uuid));
    CHECK(absl::StrContains(listed.output, "Running"));

    CommandResult deleted = ZunCapsule(h.config_path(), {"delete", name});
    CAPTURE(deleted.output);
    REQUIRE(deleted.exit_code == 0);
    CommandResult gone =
        ZunCapsule(h.config_path(),
                   {"wait", uuid, "--status", "Deleted", "--timeout", "60"});
    CAPTURE(gone.output);
    REQUIRE(gone.exit_code == 0);
    CHECK(h.StatusOf(uuid) == "<gone>");
  }
  auto sandboxes = h.cri().ListPodSandbox({});
  REQUIRE(sandboxes.ok());
  CHECK(sandboxes->empty());
  CHECK(Count(h, "SELECT count(*) AS n FROM container") == 0);
}

TEST_CASE("zun-capsule web sample: the API's rows, table output") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  CommandResult created =
      ZunCapsule(h.config_path(), {"create", "-f", SampleTemplate("web.yaml")});
  CAPTURE(created.output);
  REQUIRE(created.exit_code == 0);
  // Readable output: the capsule's fields and its containers.
  CHECK(absl::StrContains(created.output, "capsule-web-httpd"));
  CHECK(absl::StrContains(created.output, "init"));
  // One capsule row with the summed requests (0.25 + 0.1 vCPU, 64 + 32
  // MiB), an init container and two containers; no volumes.
  auto rows = h.db().Query(
      "SELECT cpu, memory FROM container WHERE container_type = 1");
  REQUIRE(rows.size() == 1);
  CHECK(std::stod(*rows[0]["cpu"]) == Approx(0.35));
  CHECK(rows[0]["memory"] == "96");
  CHECK(Count(h,
              "SELECT count(*) AS n FROM container WHERE capsule_id IS NOT "
              "NULL") == 3);
  CHECK(Count(h, "SELECT count(*) AS n FROM volume_mapping") == 0);
  REQUIRE(ZunCapsule(h.config_path(),
                     {"wait", "web", "--status", "Running", "--timeout", "60"})
              .exit_code == 0);
  REQUIRE(ZunCapsule(h.config_path(), {"delete", "web"}).exit_code == 0);
  REQUIRE(ZunCapsule(h.config_path(),
                     {"wait", "web", "--status", "Deleted", "--timeout", "60"})
              .exit_code == 0);
}

TEST_CASE("zun-capsule refuses bad templates and reports unreachable hosts") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  const std::string bad = h.dir() + "/bad.yaml";
  {
    std::ofstream f(bad);
    f << "kind: capsule\nmetadata: {name: bad}\nspec:\n  containers:\n"
         "    - image: busybox\n"
         "      resources: {requests: {memory: lots}}\n";
  }
  // The Zun API's verdict, in its words.
  CommandResult r = ZunCapsule(h.config_path(), {"create", "-f", bad});
  CHECK(r.exit_code == 1);
  CHECK(absl::StrContains(r.output,
                          "Invalid input for field 'memory'.Value: 'lots'. "
                          "'lots' does not match '^[0-9]+$'"));
  CHECK(Count(h, "SELECT count(*) AS n FROM container") == 0);
  // Cinder volumes are valid for Zun, but zun-capsule cannot make them.
  const std::string cinder = h.dir() + "/cinder.yaml";
  {
    std::ofstream f(cinder);
    f << "kind: capsule\nmetadata: {name: vol}\nspec:\n"
         "  volumes: [{name: data, cinder: {size: 1}}]\n"
         "  containers:\n    - image: busybox\n"
         "      volumeMounts: [{name: data, mountPath: /data}]\n";
  }
  r = ZunCapsule(h.config_path(), {"create", "-f", cinder});
  CHECK(r.exit_code == 1);
  CHECK(absl::StrContains(r.output, "Cinder"));
  CHECK(Count(h, "SELECT count(*) AS n FROM container") == 0);

  // No agent ever served this host: the create fails, the capsule is Error.
  r = ZunCapsule(h.config_path(),
                 {"create", "-f", SampleTemplate("minimal.json"), "--host",
                  "no-such-host-" + h.host()});
  CAPTURE(r.output);
  CHECK(r.exit_code == 1);
  CHECK(absl::StrContains(r.output, "no-such-host"));
  auto rows = h.db().Query(
      "SELECT status, status_reason FROM container WHERE container_type = 1");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "Error");
  // Never claimed by a host: delete removes the rows directly.
  REQUIRE(ZunCapsule(h.config_path(), {"delete", "minimal"}).exit_code == 0);
  CHECK(Count(h, "SELECT count(*) AS n FROM container") == 0);

  r = ZunCapsule(h.config_path(), {"show", "nothing-by-this-name"});
  CHECK(r.exit_code == 1);
  r = ZunCapsule(h.config_path(), {"frobnicate"});
  CHECK(r.exit_code == 2);
  r = ZunCapsule(h.config_path(), {"wait", "x"});
  CHECK(r.exit_code == 1);
}

}  // namespace
}  // namespace zun::testing

namespace zun::testing {
namespace {

TEST_CASE("zun-capsule create --count makes many capsules, one line each") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  CommandResult created = ZunCapsule(
      h.config_path(),
      {"create", "-f", SampleTemplate("minimal.json"), "--count", "5"});
  CAPTURE(created.output);
  REQUIRE(created.exit_code == 0);
  std::vector<std::string> uuids;
  std::istringstream lines(created.output);
  std::string uuid, host;
  while (lines >> uuid >> host) {
    CHECK(host == h.host());
    uuids.push_back(uuid);
  }
  REQUIRE(uuids.size() == 5);
  for (const std::string& u : uuids) {
    CHECK(PollUntil([&] { return h.StatusOf(u) == "Running"; }));
  }
  // Names are the template's with -1 .. -5.
  auto rows = h.db().Query(
      "SELECT count(DISTINCT name) AS n FROM container WHERE container_type = "
      "1 AND name ~ '-[1-5]$'");
  CHECK(rows[0].at("n") == "5");
  CommandResult bad = ZunCapsule(
      h.config_path(),
      {"create", "-f", SampleTemplate("minimal.json"), "--count", "0"});
  CHECK(bad.exit_code != 0);
}

}  // namespace
}  // namespace zun::testing

namespace zun::testing {
namespace {

TEST_CASE("zun-capsule casts to an agent whose queues are durable") {
  // A control exchange and topic of this test's own: on the shared broker
  // "zun" and "zun-compute" are non-durable, and RabbitMQ refuses to
  // redeclare them durable.
  const std::string exchange = "zun_durable_" + NewUuid4Hex().substr(0, 8);
  const std::string topic = "zun-compute-" + NewUuid4Hex().substr(0, 8);
  const std::string rabbit =
      "[oslo_messaging_rabbit]\namqp_durable_queues = true\n";
  HarnessOptions o;
  o.extra_config = "[DEFAULT]\ncontrol_exchange = " + exchange + "\n" + rabbit +
                   "[compute]\ntopic = " + topic + "\n";
  AgentHarness h(o);
  const std::string client_conf = h.dir() + "/oslo-client.conf";
  std::ofstream(client_conf) << rabbit;
  const bool serving = h.WaitServing(
      absl::Seconds(60),
      {"--config-file", client_conf, "--exchange", exchange, "--topic", topic});
  INFO(ReadFile(h.dir() + "/zun-agent.log"));
  REQUIRE(serving);
  CommandResult created = ZunCapsule(
      h.config_path(),
      {"create", "-f", SampleTemplate("minimal.json"), "--count", "2"});
  CAPTURE(created.output);
  REQUIRE(created.exit_code == 0);
  std::istringstream lines(created.output);
  std::string uuid, host;
  int n = 0;
  while (lines >> uuid >> host) {
    ++n;
    CHECK(PollUntil([&] { return h.StatusOf(uuid) == "Running"; }));
  }
  CHECK(n == 2);
}

}  // namespace
}  // namespace zun::testing
