// AgentMetrics rendering and HealthMonitor results, in-process with a
// simulated clock.
#include "observe/metrics.h"

#include <atomic>
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "observe/health.h"
#include "tests/support/poll.h"

namespace zun::agent {
namespace {

TEST_CASE("metrics render pushed and pulled values in the text format") {
  observe::AgentMetrics m;
  m.OnOperation("create", "ok", absl::Milliseconds(30));
  m.OnOperation("create", "ok", absl::Milliseconds(40));
  m.OnOperation("create", "requeued", absl::Seconds(100));
  m.OnCriCall("RunPodSandbox", absl::Milliseconds(3), absl::StatusCode::kOk);
  m.OnCriCall("RunPodSandbox", absl::Seconds(1),
              absl::StatusCode::kDeadlineExceeded);
  m.OnRelist(absl::Milliseconds(2));
  observe::MetricSources s;
  s.rpc_messages = [] {
    return std::map<std::string, uint64_t>{{"container_create/dispatched", 5},
                                           {"image_search/unsupported", 1}};
  };
  s.db = [] {
    db::PoolStats p;
    p.statements = 7;
    p.broken = 2;
    return p;
  };
  s.capsules_by_status = [] {
    return std::map<std::string, int64_t>{{"Running", 3}, {"Error", 0}};
  };
  m.SetSources(s);
  const std::string text = m.Render();
  CAPTURE(text);
  CHECK(absl::StrContains(
      text,
      "zun_agent_operations_total{operation=\"create\",result=\"ok\"} 2"));
  CHECK(absl::StrContains(text,
                          "zun_agent_operations_total{operation=\"create\","
                          "result=\"requeued\"} 1"));
  // Requeued operations did no work: not in the latency histogram.
  CHECK(absl::StrContains(
      text,
      "zun_agent_operation_duration_seconds_count{operation=\"create\"} 2"));
  CHECK(absl::StrContains(text,
                          "zun_agent_cri_request_duration_seconds_count{method="
                          "\"RunPodSandbox\"} 2"));
  CHECK(absl::StrContains(text,
                          "zun_agent_cri_errors_total{code=\"deadline_"
                          "exceeded\",method=\"RunPodSandbox\"} 1"));
  CHECK(
      absl::StrContains(text, "zun_agent_reconcile_duration_seconds_count 1"));
  CHECK(absl::StrContains(text,
                          "zun_agent_rpc_messages_total{method=\"container_"
                          "create\",outcome=\"dispatched\"} 5"));
  CHECK(absl::StrContains(text, "zun_agent_db_statements_total 7"));
  CHECK(absl::StrContains(text, "zun_agent_db_reconnects_total 2"));
  CHECK(absl::StrContains(text, "zun_agent_capsules{status=\"Running\"} 3"));
  CHECK(absl::StrContains(text, "# TYPE zun_agent_capsules gauge"));
  // No bus source: no bus families.
  CHECK_FALSE(absl::StrContains(text, "zun_agent_amqp"));
}

TEST_CASE("health: failing and hung probes make the report unhealthy") {
  SimulatedClock clock;
  std::atomic<bool> db_ok{true};
  std::atomic<int> runtime_calls{0};
  observe::HealthMonitor h(
      {{"database",
        [&] {
          return db_ok ? absl::OkStatus()
                       : absl::UnavailableError("connection refused");
        }},
       {"runtime",
        [&] {
          ++runtime_calls;
          return absl::OkStatus();
        }}},
      clock, absl::Seconds(2));
  CHECK_FALSE(h.Current().healthy);  // nothing checked yet
  h.Start();
  REQUIRE(testing::PollUntil([&] { return h.Current().healthy; }));
  observe::HealthReport r = h.Current();
  REQUIRE(r.checks.size() == 2);
  CHECK(absl::StrContains(r.ToJson(clock.Now()), "\"status\":\"ok\""));

  db_ok = false;
  // Advance to the next probe round: the database probe fails.
  REQUIRE(testing::PollUntil([&] {
    if (clock.NumWaiters() == 2) clock.AdvanceTime(absl::Seconds(2));
    return !h.Current().healthy;
  }));
  r = h.Current();
  CHECK_FALSE(r.checks[0].ok);
  CHECK(r.checks[0].message == "connection refused");
  CHECK(r.checks[1].ok);
  const std::string json = r.ToJson(clock.Now());
  CHECK(absl::StrContains(json, "\"status\":\"unhealthy\""));
  CHECK(absl::StrContains(json, "connection refused"));
  h.Stop();

  // Stopped probes leave results that age: after 3 intervals they count as
  // hung.
  db_ok = true;
  clock.AdvanceTime(absl::Seconds(7));
  r = h.Current();
  CHECK_FALSE(r.checks[1].ok);
  CHECK(absl::StrContains(r.checks[1].message, "no result"));
}

}  // namespace
}  // namespace zun::agent
