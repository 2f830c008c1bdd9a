// Distributed servers as operators run them: the agent on a three-node
// RabbitMQ cluster whose node it is connected to dies mid-stream, on a
// PostgreSQL primary that dies mid-stream and whose synchronous standby is
// promoted, and behind PgBouncer in transaction pooling mode. Each test
// starts its own servers once (scripts/), on private ports.
#include <catch2/catch.hpp>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/cluster/cluster_support.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

constexpr int kCasts = 100;

TEST_CASE(
    "a RabbitMQ cluster: the agent's node killed mid-stream, every capsule "
    "runs exactly once") {
  RabbitCluster cluster(5730);
  const std::string quorum =
      "[oslo_messaging_rabbit]\nrabbit_quorum_queue = true\n";
  HarnessOptions o;
  o.amqp_url = cluster.Url(1);             // the control plane: node 1
  o.agent_transport_url = cluster.Url(0);  // the agent: node 0 first
  o.extra_config = quorum;
  AgentHarness h(o);
  const std::string client_conf = h.dir() + "/oslo-client.conf";
  std::ofstream(client_conf) << quorum;
  const std::vector<std::string> client = {"--config-file", client_conf};
  REQUIRE(h.WaitServing(absl::Seconds(90), client));
  // The agent's connections are node 0's only ones (the client uses 1).
  REQUIRE(PollUntil([&] { return cluster.Connections(0) >= 1; }));

  CapsuleBatch batch = MakeBatch(h, "q", kCasts);
  const std::string log = h.dir() + "/publisher.log";
  auto publisher = StartPacedPublisher(cluster.Url(1), client,
                                       h.WriteCastFile(batch.casts), 0.05, log);
  REQUIRE(PollUntil([&] { return SentCount(log) >= 30; }));
  cluster.Kill(0);

  auto code = publisher->Wait(absl::Seconds(300));
  REQUIRE(code.ok());
  REQUIRE(*code == 0);
  REQUIRE(SentCount(log) == kCasts);
  // The agent moved to a surviving node by itself.
  CHECK(PollUntil(
      [&] { return cluster.Connections(1) + cluster.Connections(2) >= 2; },
      absl::Seconds(60)));
  for (const auto& c : batch.capsules) {
    CAPTURE(c.uuid());
    CHECK(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; },
                    absl::Seconds(120)));
    CheckCreatedOnce(h, c);
  }
}

TEST_CASE(
    "PostgreSQL failover: the primary killed mid-stream, the standby "
    "promoted, every capsule finished and nothing committed lost") {
  PostgresPair pg(5770, 5771);
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  o.pg_socket = pg.primary_socket();
  o.pg_port = pg.primary_port();
  o.agent_db_connection = pg.Url("{db}");
  AgentHarness h(o);
  REQUIRE(h.WaitServing());

  CapsuleBatch batch = MakeBatch(h, "f", kCasts);
  const std::string log = h.dir() + "/publisher.log";
  auto publisher = StartPacedPublisher(h.amqp_url(), {},
                                       h.WriteCastFile(batch.casts), 0.05, log);
  REQUIRE(PollUntil([&] { return SentCount(log) >= 30; }));
  // What the primary has committed (synchronously replicated) by now.
  std::vector<std::string> running_before;
  for (const auto& row :
       h.db().Query("SELECT uuid FROM container WHERE status = 'Running' AND "
                    "container_type = 1")) {
    running_before.push_back(*row.at("uuid"));
  }
  pg.KillPrimary();
  pg.PromoteStandby();
  h.db().Repoint(pg.standby_socket(), pg.standby_port());

  auto code = publisher->Wait(absl::Seconds(300));
  REQUIRE(code.ok());
  REQUIRE(*code == 0);
  // The failover happened mid-stream: creates were left for the standby.
  CHECK(running_before.size() < kCasts);
  for (const std::string& uuid : running_before) {
    CAPTURE(uuid);
    CHECK(h.StatusOf(uuid) == "Running");
  }
  for (const auto& c : batch.capsules) {
    CAPTURE(c.uuid());
    CHECK(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; },
                    absl::Seconds(120)));
    CheckCreatedOnce(h, c);
  }
  // The agent saw its connections break and connected again (to the
  // promoted standby: the rows above are read there).
  CHECK(MetricOf(o.metrics_port, "zun_agent_db_reconnects_total") +
            MetricOf(o.metrics_port,
                     "zun_agent_db_errors_total{kind=\"connect\"}") >=
        1);
}

TEST_CASE("the agent works behind PgBouncer in transaction pooling mode") {
  const TestEnv& env = TestEnv::Get();
  PgBouncer bouncer(6470, env.pg_port);
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  o.agent_db_connection = bouncer.Url("{db}");
  o.extra_config = "[database]\ntransaction_pooling = true\n";
  AgentHarness h(o);
  REQUIRE(h.WaitServing());

  CapsuleBatch batch = MakeBatch(h, "b", 30);
  REQUIRE(h.CastMany(batch.casts).ok());
  for (const auto& c : batch.capsules) {
    CAPTURE(c.uuid());
    CHECK(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
    CheckCreatedOnce(h, c);
  }
  for (int i = 0; i < 10; ++i) {
    REQUIRE(h.CastDelete(batch.capsules[i]).ok());
  }
  for (int i = 0; i < 10; ++i) {
    CHECK(PollUntil(
        [&] { return h.StatusOf(batch.capsules[i].uuid()) == "<gone>"; }));
  }
  // Every statement went through the pooler, none failed, and the agent's
  // clients shared the pooler's few server connections. (Transactions: one
  // per delete, and at least a claim and a status commit for the creates,
  // which group commit may share among many capsules.)
  CHECK(MetricOf(o.metrics_port, "zun_agent_db_statements_total") >= 12);
  CHECK(MetricOf(o.metrics_port,
                 "zun_agent_db_errors_total{kind=\"statement\"}") == 0);
  bool pooled = false;
  for (const auto& pool : bouncer.Show("SHOW POOLS")) {
    if (pool.at("database") != h.db().name()) continue;
    pooled = true;
    CHECK(pool.at("pool_mode") == "transaction");
  }
  CHECK(pooled);
  // Timestamps are UTC without a session time zone.
  auto rows = h.db().Query(
      "SELECT count(*) AS n FROM container WHERE status = 'Running' AND "
      "container_type = 1 AND abs(extract(epoch FROM (updated_at - (now() AT "
      "TIME ZONE 'UTC')))) < 600");
  CHECK(rows[0].at("n") == "20");
}

}  // namespace
}  // namespace zun::testing
