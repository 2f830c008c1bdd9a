// The agent's /metrics and /healthz as an operator meets them: real agent
// process, real servers, scraped over HTTP.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/support/agent_harness.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

// The value of the sample whose line starts with `series` ("name{labels}"),
// or -1 if absent.

std::string Get(int port, const std::string& path, int* status = nullptr) {
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", path);
  if (!r.ok()) return "";
  if (status != nullptr) *status = r->status;
  return r->body;
}

TEST_CASE("metrics count operations, RPCs, CRI calls and capsules by status") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"}),
                  AgentHarness::Child("b", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));

  std::string text;
  REQUIRE(PollUntil([&] {
    text = Get(o.metrics_port, "/metrics");
    // The operation is counted just after the registry shows it Running.
    return MetricIn(text, R"(zun_agent_capsules{status="Running"})") == 1 &&
           MetricIn(
               text,
               R"(zun_agent_operations_total{operation="create",result="ok"})") >=
               1;
  }));
  CAPTURE(text);
  CHECK(MetricIn(
            text,
            R"(zun_agent_operations_total{operation="create",result="ok"})") ==
        1);
  CHECK(
      MetricIn(
          text,
          R"(zun_agent_rpc_messages_total{method="container_create",outcome="dispatched"})") ==
      1);
  CHECK(
      MetricIn(
          text,
          R"(zun_agent_cri_request_duration_seconds_count{method="RunPodSandbox"})") ==
      1);
  CHECK(
      MetricIn(
          text,
          R"(zun_agent_cri_request_duration_seconds_count{method="StartContainer"})") ==
      2);
  CHECK(MetricIn(text, "zun_agent_db_statements_total") > 0);
  CHECK(MetricIn(text, R"(zun_agent_reconcile_relists_total{result="ok"})") >
        0);
  CHECK(MetricIn(text, "zun_agent_reconcile_duration_seconds_count") > 0);
  CHECK(MetricIn(text, R"(zun_agent_amqp_events_total{event="received"})") >=
        1);
  // No credential or connection string anywhere.
  CHECK_FALSE(absl::StrContains(text, "guest:guest"));
  CHECK_FALSE(absl::StrContains(text, h.amqp_url()));
  CHECK_FALSE(absl::StrContains(text, "postgresql://"));

  // A show and a delete are counted too.
  REQUIRE(
      h.Call("container_show", {{"container", h.CapsulePrimitive(c)}}).ok());
  REQUIRE(h.CastDelete(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "<gone>"; }));
  REQUIRE(PollUntil([&] {
    text = Get(o.metrics_port, "/metrics");
    return MetricIn(
               text,
               R"(zun_agent_operations_total{operation="delete",result="ok"})") ==
           1;
  }));
  CHECK(MetricIn(text, R"(zun_agent_capsules{status="Running"})") == 0);
  CHECK(
      MetricIn(text,
               R"(zun_agent_operations_total{operation="show",result="ok"})") ==
      1);
}

TEST_CASE(
    "/healthz reports each neighbour and turns 503 when the runtime goes") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  int status = 0;
  std::string body;
  REQUIRE(PollUntil([&] {
    body = Get(o.metrics_port, "/healthz", &status);
    return status == 200;
  }));
  nlohmann::json j = nlohmann::json::parse(body);
  CHECK(j["status"] == "ok");
  for (const char* check : {"bus", "database", "runtime"}) {
    CAPTURE(check);
    CHECK(j["checks"][check]["ok"] == true);
  }

  h.StopFakeCri();
  REQUIRE(PollUntil([&] {
    body = Get(o.metrics_port, "/healthz", &status);
    return status == 503;
  }));
  j = nlohmann::json::parse(body);
  CHECK(j["status"] == "unhealthy");
  CHECK(j["checks"]["runtime"]["ok"] == false);
  CHECK(j["checks"]["runtime"]["message"].get<std::string>() != "");
  CHECK(j["checks"]["database"]["ok"] == true);
  CHECK(j["checks"]["bus"]["ok"] == true);

  h.StartFakeCri();
  REQUIRE(PollUntil([&] {
    Get(o.metrics_port, "/healthz", &status);
    return status == 200;
  }));

  // Nothing else is served.
  absl::StatusOr<HttpResponse> other = HttpRequest(o.metrics_port, "GET", "/");
  REQUIRE(other.ok());
  CHECK(other->status == 404);
  absl::StatusOr<HttpResponse> post =
      HttpRequest(o.metrics_port, "POST", "/metrics");
  REQUIRE(post.ok());
  CHECK(post->status == 405);
}

TEST_CASE("metrics_listen that cannot be bound stops the agent with an error") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  o.start_agent = false;
  AgentHarness h(o);
  // Someone else holds the port.
  HarnessOptions o2 = o;
  o2.start_agent = true;
  AgentHarness first(o2);
  REQUIRE(first.WaitServing());
  h.StartAgent();
  REQUIRE(PollUntil([&] { return !h.agent()->Running(); }));
  CHECK(h.agent()->Wait(absl::Seconds(10)).value_or(0) != 0);
}

}  // namespace
}  // namespace zun::testing

namespace zun::testing {
namespace {

TEST_CASE("a runtime that appears after the agent is used without a restart") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  o.start_agent = false;
  AgentHarness h(o);
  h.StopFakeCri();  // the socket is gone: containerd is not up yet
  h.StartAgent();
  int status = 0;
  REQUIRE(PollUntil([&] {
    const std::string body = Get(o.metrics_port, "/healthz", &status);
    return status == 503 && absl::StrContains(body, "\"runtime\"");
  }));
  h.StartFakeCri();
  REQUIRE(h.WaitServing(absl::Seconds(30)));
  REQUIRE(PollUntil([&] {
    Get(o.metrics_port, "/healthz", &status);
    return status == 200;
  }));
  capsule::Capsule c;
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  CHECK(h.agent()->Running());
}

}  // namespace
}  // namespace zun::testing
