// TLS to both servers, against the TLS listeners of the shared test servers
// (scripts/test-services.sh): RabbitMQ's AMQPS port requires a client
// certificate signed by the test CA; PostgreSQL lets the role zun_tls in only
// over TLS with a client certificate. The test's own clients use the plain
// listeners of the same servers, so whatever the agent serves it got over
// TLS.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/agent_harness.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

std::string TlsFile(const std::string& name) {
  return TestEnv::Get().tls_dir + "/" + name;
}

std::string AmqpsUrl() {
  return absl::StrCat(
      "amqps://guest:guest@localhost:", TestEnv::Get().rmq_tls_port, "/");
}

// [oslo_messaging_rabbit] TLS options; empty arguments are left out.
std::string RabbitTls(const std::string& ca, const std::string& cert,
                      const std::string& key) {
  std::string s = "[oslo_messaging_rabbit]\nssl = true\n";
  if (!ca.empty()) absl::StrAppend(&s, "ssl_ca_file = ", ca, "\n");
  if (!cert.empty()) absl::StrAppend(&s, "ssl_cert_file = ", cert, "\n");
  if (!key.empty()) absl::StrAppend(&s, "ssl_key_file = ", key, "\n");
  return s;
}

// libpq URI for the certificate-only role on the scratch database.
std::string PgTlsUrl(const std::string& db, const std::string& root_ca) {
  return absl::StrCat("postgresql://zun_tls@localhost:", TestEnv::Get().pg_port,
                      "/", db, "?sslmode=verify-full&sslrootcert=", root_ca,
                      "&sslcert=", TlsFile("client.pem"),
                      "&sslkey=", TlsFile("client.key"));
}

nlohmann::json Health(int port) {
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", "/healthz");
  if (!r.ok()) return nlohmann::json();
  return nlohmann::json::parse(r->body, nullptr, false);
}

bool CheckFails(const nlohmann::json& health, const std::string& check) {
  return health.is_object() && health["checks"].contains(check) &&
         health["checks"][check]["ok"] == false;
}

TEST_CASE(
    "the agent serves over AMQPS with a client certificate and keeps "
    "its state over verified TLS to PostgreSQL") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  o.agent_transport_url = AmqpsUrl();
  o.extra_config = RabbitTls(TlsFile("ca.pem"), TlsFile("client.pem"),
                             TlsFile("client.key"));
  o.agent_db_connection = PgTlsUrl("{db}", TlsFile("ca.pem"));
  AgentHarness h(o);
  REQUIRE(h.WaitServing());

  capsule::Capsule c;
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));

  // The agent's sessions on the database are the TLS role's, encrypted.
  std::vector<SqlRow> rows = h.db().AdminQuery(
      absl::StrCat("SELECT count(*) AS n, bool_and(s.ssl) AS all_ssl "
                   "FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
                   "WHERE a.usename = 'zun_tls' AND a.datname = '",
                   h.db().name(), "'"));
  REQUIRE(rows.size() == 1);
  CHECK(std::stoi(*rows[0]["n"]) > 0);
  CHECK(rows[0]["all_ssl"] == std::optional<std::string>("t"));

  nlohmann::json health;
  CHECK(PollUntil([&] {
    health = Health(o.metrics_port);
    return health.is_object() && health["status"] == "ok";
  }));
  CAPTURE(health.dump());
  REQUIRE(h.CastDelete(c).ok());
  REQUIRE(PollUntil([&] { return !h.CapsuleRow(c.uuid()).has_value(); }));
}

TEST_CASE(
    "AMQPS fails closed: a wrong CA or no client certificate never "
    "reaches the broker") {
  struct Case {
    const char* name;
    std::string tls;
  };
  const Case cases[] = {
      {"server certificate from another CA",
       RabbitTls(TlsFile("other-ca.pem"), TlsFile("client.pem"),
                 TlsFile("client.key"))},
      {"no client certificate", RabbitTls(TlsFile("ca.pem"), "", "")},
  };
  for (const Case& tc : cases) {
    SECTION(tc.name) {
      HarnessOptions o;
      o.metrics_port = FreeTcpPort();
      o.agent_transport_url = AmqpsUrl();
      o.extra_config = tc.tls;
      AgentHarness h(o);
      nlohmann::json health;
      // The database is fine; the bus stays down.
      REQUIRE(PollUntil([&] {
        health = Health(o.metrics_port);
        return CheckFails(health, "bus") &&
               health["checks"]["database"]["ok"] == true;
      }));
      CAPTURE(health.dump());
      CHECK(h.agent()->Running());
      CHECK_FALSE(h.WaitServing(absl::Seconds(3)));
    }
  }
}

TEST_CASE("PostgreSQL TLS fails closed with a certificate from another CA") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  o.agent_db_connection = PgTlsUrl("{db}", TlsFile("other-ca.pem"));
  AgentHarness h(o);
  nlohmann::json health;
  REQUIRE(PollUntil([&] {
    health = Health(o.metrics_port);
    return CheckFails(health, "database");
  }));
  CAPTURE(health.dump());
  CHECK(h.agent()->Running());
}

}  // namespace
}  // namespace zun::testing
