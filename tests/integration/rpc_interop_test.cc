// The agent process as seen by the real oslo.messaging client: results,
// Zun exceptions re-raised as their classes, oslo's dispatcher errors,
// unsupported methods, fanout, call-monitor heartbeats, declares that a real
// oslo server accepts, failover across transport_url hosts.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "common/uuid.h"
#include "cri/fake_control_client.h"
#include "rpc/zun_object.h"
#include "tests/support/agent_harness.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

nlohmann::json ShowArgs(const std::string& uuid) {
  return {{"container",
           {{"zun_object.name", "Capsule"},
            {"zun_object.namespace", "zun"},
            {"zun_object.version", "1.4"},
            {"zun_object.data", {{"uuid", uuid}}}}}};
}

TEST_CASE("calls: results, Zun exceptions and oslo dispatcher errors") {
  AgentHarness h;
  REQUIRE(h.WaitServing());

  auto missing = h.Call("container_show",
                        ShowArgs("3e0e7c8e-0000-4000-8000-000000000001"));
  REQUIRE(missing.ok());
  CHECK((*missing)["exception"] == "ContainerNotFound");
  CHECK((*missing)["module"] ==
        "zun.common.exception");  // re-raised as the class
  CHECK((*missing)["remote"] == false);
  CHECK_THAT((*missing)["message"].get<std::string>(),
             Catch::Contains("could not be found"));

  auto nsm = h.Call("no_such_method", nlohmann::json::object());
  REQUIRE(nsm.ok());
  CHECK((*nsm)["exception"] == "NoSuchMethod");
  CHECK((*nsm)["message"] ==
        "Endpoint does not support RPC method no_such_method");

  auto private_method = h.Call("_private", nlohmann::json::object());
  REQUIRE(private_method.ok());
  CHECK((*private_method)["exception"] == "NoSuchMethod");

  auto version =
      h.Call("container_show", ShowArgs("x"), 30, {"--version", "1.1"});
  REQUIRE(version.ok());
  CHECK((*version)["exception"] == "UnsupportedVersion");
  auto ns =
      h.Call("container_show", ShowArgs("x"), 30, {"--namespace", "other"});
  REQUIRE(ns.ok());
  CHECK((*ns)["exception"] == "UnsupportedVersion");

  auto logs = h.Call("container_logs", nlohmann::json::object());
  REQUIRE(logs.ok());
  CHECK((*logs)["exception"] == "ZunException");
  CHECK_THAT((*logs)["message"].get<std::string>(),
             Catch::Contains("container_logs"));

  auto invalid = h.Call("container_show", nlohmann::json::object());
  REQUIRE(invalid.ok());
  CHECK((*invalid)["exception"] == "Invalid");
  CHECK_THAT((*invalid)["message"].get<std::string>(),
             Catch::Contains("container"));
}

TEST_CASE("calls on the shared queue get an explicit failure") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  // No server: the shared `zun-compute` queue (any agent may answer).
  std::vector<std::string> argv = {
      "/usr/bin/python3",
      SourceDir() + "/tests/tools/oslo_client.py",
      "--url",
      TestEnv::Get().amqp_url,
      "--timeout",
      "20",
      "call",
      "image_search",
      "--args",
      R"({"image": "cirros", "image_driver_name": "docker",
                    "exact_match": true, "registry": null})"};
  auto r = RunCommand(argv, absl::Seconds(60), PyEnv());
  REQUIRE(r.ok());
  CHECK_THAT(r->output, Catch::Contains("ZunException"));
  CHECK_THAT(r->output, Catch::Contains("image_search"));
}

TEST_CASE("container_show returns the capsule primitive with fresh status") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c = h.CreateCapsuleRows("shown", {"busybox"});
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  auto r = h.Call("container_show", ShowArgs(c.uuid()));
  REQUIRE(r.ok());
  REQUIRE(r->contains("result"));
  auto shown = rpc::DecodeCapsule((*r)["result"]);
  REQUIRE(shown.ok());
  CHECK(shown->record.status == "Running");
  CHECK(shown->record.host == h.host());
  REQUIRE(shown->containers.size() == 1);
  CHECK(shown->containers[0].status == "Running");
  CHECK((*r)["result"]["zun_object.version"] == "1.4");
}

TEST_CASE("a fanout cast reaches the agent") {
  // A topic of its own: a fanout on the shared broker's "zun-compute" would
  // reach every agent of the tests running beside this one.
  const std::string topic = "zun-compute-" + NewUuid4Hex().substr(0, 8);
  HarnessOptions o;
  o.extra_config = "[compute]\ntopic = " + topic + "\n";
  AgentHarness h(o);
  REQUIRE(h.WaitServing(absl::Seconds(60), {"--topic", topic}));
  capsule::Capsule c = h.CreateCapsuleRows("fanned", {"busybox"});
  REQUIRE(h.Cast("container_create",
                 {{"container", h.CapsulePrimitive(c)},
                  {"limits", nlohmann::json::object()},
                  {"requested_networks", nlohmann::json::array()},
                  {"requested_volumes", nlohmann::json::object()},
                  {"run", false},
                  {"pci_requests", nullptr}},
                 {"--fanout", "--topic", topic})
              .ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
}

TEST_CASE("the request context reaches the container_actions rows") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c = h.CreateCapsuleRows("ctx", {"busybox"});
  const nlohmann::json ctx = {{"request_id", "req-context-test"},
                              {"user_id", "alice"},
                              {"project_id", "proj-7"},
                              {"roles", {"member"}}};
  REQUIRE(h.Cast("container_create",
                 {{"container", h.CapsulePrimitive(c)},
                  {"limits", nlohmann::json::object()},
                  {"requested_networks", nlohmann::json::array()},
                  {"requested_volumes", nlohmann::json::object()},
                  {"run", false},
                  {"pci_requests", nullptr}},
                 {"--context", ctx.dump()})
              .ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  auto actions = h.db().Query(
      "SELECT a.request_id, a.user_id, a.project_id, a.action, e.event, "
      "e.result FROM container_actions a JOIN container_actions_events e ON "
      "e.action_id = a.id WHERE a.container_uuid = '" +
      c.uuid() + "'");
  REQUIRE(actions.size() == 1);
  CHECK(actions[0]["request_id"] == "req-context-test");
  CHECK(actions[0]["user_id"] == "alice");
  CHECK(actions[0]["project_id"] == "proj-7");
  CHECK(actions[0]["action"] == "create");
  CHECK(actions[0]["event"] == "compute__do_container_create");
  CHECK(actions[0]["result"] == "Success");
}

TEST_CASE("a slow call is kept alive by call-monitor heartbeats") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c = h.CreateCapsuleRows("slow", {"busybox"});
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  // container_show observes the pod: the status of its sandbox.
  cri::fake::FakeCriControlClient control(h.cri_endpoint());
  REQUIRE(control.SetFaults({{"PodSandboxStatus", "latency:6s"}}).ok());
  // Without heartbeats a 4 s call-monitor timeout would fail this 6 s call
  // (heartbeats every 2 s leave a slow machine 2 s of slack).
  auto r = h.Call("container_show", ShowArgs(c.uuid()), 60,
                  {"--call-monitor-timeout", "4"});
  REQUIRE(r.ok());
  CHECK(r->contains("result"));
  auto stats = control.Stats();
  REQUIRE(stats.ok());
  CHECK(stats->calls["PodSandboxStatus"] >= 2);  // the create's and the show's
}

TEST_CASE("the agent's declares match a real oslo.messaging server's") {
  HarnessOptions o;
  o.start_agent = false;
  AgentHarness h(o);
  // A Python oslo server for the same topic and host declares first; if our
  // declares differed, the broker would refuse them (406) and the agent
  // could never serve.
  auto py = Subprocess::Start(
      {"/usr/bin/python3", SourceDir() + "/tests/tools/oslo_server.py", "--url",
       TestEnv::Get().amqp_url, "--server", h.host(), "--seconds", "8"},
      h.dir() + "/oslo-server.log", PyEnv());
  REQUIRE(py.ok());
  REQUIRE(PollUntil([&] {
    return ReadFile(h.dir() + "/oslo-server.log").find("Traceback") ==
               std::string::npos &&
           RunCommand({TestEnv::Get().rmq_base + "/rabbitmqctl", "-q",
                       "list_queues", "name"},
                      absl::Seconds(30))
                   ->output.find("zun-compute." + h.host()) !=
               std::string::npos;
  }));
  h.StartAgent();
  REQUIRE(h.WaitServing());
  auto exit_code = (*py)->Wait(absl::Seconds(60));
  REQUIRE(exit_code.ok());
  CHECK(*exit_code == 0);
  // Our own fanout queue is declared as oslo declares its fanout queues.
  auto queues =
      RunCommand({TestEnv::Get().rmq_base + "/rabbitmqctl", "-q", "list_queues",
                  "name", "durable", "auto_delete", "arguments"},
                 absl::Seconds(30));
  REQUIRE(queues.ok());
  std::istringstream lines(queues->output);
  std::string line;
  int fanout_queues = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("zun-compute_fanout_", 0) != 0) continue;
    ++fanout_queues;
    CHECK_THAT(line, Catch::Contains("false\tfalse") &&
                         Catch::Contains("x-expires") &&
                         Catch::Contains("1800000"));
  }
  CHECK(fanout_queues >= 1);
}

TEST_CASE("transport_url with several hosts fails over to one that answers") {
  HarnessOptions o;
  o.start_agent = false;
  AgentHarness h(o);
  std::string conf = ReadFile(h.config_path());
  const std::string url = TestEnv::Get().amqp_url;
  const std::string multi = "rabbit://guest:guest@127.0.0.1:1," + url.substr(9);
  conf.replace(conf.find(url), url.size(), multi);
  std::ofstream(h.config_path()) << conf;
  h.StartAgent();
  REQUIRE(h.WaitServing());
}

}  // namespace
}  // namespace zun::testing

namespace zun::testing {
namespace {

// "peer_port" of the agent's AMQP connection, found by its connection name.
std::string AgentConnectionPort(const std::string& host) {
  auto r = RunCommand({TestEnv::Get().rmq_base + "/rabbitmqctl", "-q",
                       "list_connections", "peer_port", "client_properties"},
                      absl::Seconds(30));
  if (!r.ok()) return "";
  std::istringstream lines(r->output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(":" + host) != std::string::npos) {
      return line.substr(0, line.find('\t'));
    }
  }
  return "";
}

TEST_CASE("AMQP heartbeats keep the connection while workers are busy") {
  HarnessOptions o;
  o.fake_cri_args = {"--fault", "RunPodSandbox=latency:12s"};
  o.extra_config = "[oslo_messaging_rabbit]\nheartbeat_timeout_threshold = 4\n";
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  const std::string before = AgentConnectionPort(h.host());
  REQUIRE_FALSE(before.empty());
  capsule::Capsule c = h.CreateCapsuleRows("busy", {"busybox"});
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  // The same connection survived a 12 s operation with a 4 s heartbeat
  // threshold.
  CHECK(AgentConnectionPort(h.host()) == before);
}

}  // namespace
}  // namespace zun::testing
