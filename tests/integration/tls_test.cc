// TLS to both servers, against the TLS listeners of the shared test servers
// (scripts/test-services.sh): RabbitMQ's AMQPS port requires a client
// certificate signed by the test CA; PostgreSQL lets the role zun_tls in only
// over TLS with a client certificate. The test's own clients use the plain
// listeners of the same servers, so whatever the agent serves it got over
// TLS.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
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

namespace zun::testing {
namespace {

// tests/tools/tls_sink.py on 127.0.0.1:port with `cert`: it logs what
// each client sent after the handshake, or why the handshake failed.
std::unique_ptr<Subprocess> TlsServer(int port, const std::string& cert,
                                      const std::string& log) {
  auto p = Subprocess::Start(
      {"/usr/bin/python3", SourceDir() + "/tests/tools/tls_sink.py",
       std::to_string(port), TlsFile(cert + ".pem"), TlsFile(cert + ".key")},
      log);
  REQUIRE(p.ok());
  REQUIRE(
      PollUntil([&] { return absl::StrContains(ReadFile(log), "listening"); }));
  return *std::move(p);
}

// An agent told to use AMQPS on a server presenting `cert`.
struct AmqpsAgent {
  explicit AmqpsAgent(const std::string& cert)
      : dir("zh"), port(FreeTcpPort()), log(dir.path() + "/s_server.log") {
    server = TlsServer(port, cert, log);
    HarnessOptions o;
    o.metrics_port = metrics_port = FreeTcpPort();
    o.agent_transport_url =
        absl::StrCat("amqps://guest:guest@localhost:", port, "/");
    o.extra_config = RabbitTls(TlsFile("ca.pem"), TlsFile("client.pem"),
                               TlsFile("client.key"));
    h = std::make_unique<AgentHarness>(o);
  }
  // The AMQP protocol header (then its credentials) came through TLS.
  bool SpokeAmqp() {
    return absl::StrContains(ReadFile(log), "received b'AMQP");
  }

  ScopedTempDir dir;
  int port;
  int metrics_port = 0;
  std::string log;
  std::unique_ptr<Subprocess> server;
  std::unique_ptr<AgentHarness> h;
};

TEST_CASE("an AMQPS server whose certificate names another host is refused") {
  {
    // The control: the right certificate, and the agent talks AMQP.
    AmqpsAgent right("server");
    CHECK(PollUntil([&] { return right.SpokeAmqp(); }));
  }
  // Signed by the trusted CA, but for other.example: once two attempts
  // have failed, no byte of AMQP has reached the server.
  AmqpsAgent wrong("wronghost");
  REQUIRE(PollUntil([&] {
    return MetricOf(wrong.metrics_port, "zun_agent_amqp_errors_total") >= 2;
  }));
  CHECK_FALSE(wrong.SpokeAmqp());
}

TEST_CASE(
    "PostgreSQL with verify-full refuses a certificate of another "
    "host name") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  // The server's certificate names localhost; the agent asks for
  // other.example (reached at 127.0.0.1 through hostaddr).
  o.agent_db_connection = absl::StrCat(
      "postgresql://zun_tls@other.example:", TestEnv::Get().pg_port,
      "/{db}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=",
      TlsFile("ca.pem"), "&sslcert=", TlsFile("client.pem"),
      "&sslkey=", TlsFile("client.key"));
  AgentHarness h(o);
  nlohmann::json health;
  // libpq refuses the certificate: it names localhost, not other.example.
  const bool refused = PollUntil([&] {
    health = Health(o.metrics_port);
    return CheckFails(health, "database") &&
           absl::StrContains(
               health["checks"]["database"]["message"].get<std::string>(),
               "other.example");
  });
  INFO("health: " << health.dump());
  INFO("agent log:\n" << ReadFile(h.dir() + "/zun-agent.log"));
  CHECK(refused);
  std::vector<SqlRow> sessions = h.db().AdminQuery(
      absl::StrCat("SELECT count(*) AS n FROM pg_stat_activity WHERE "
                   "usename = 'zun_tls' AND datname = '",
                   h.db().name(), "'"));
  CHECK(sessions[0].at("n") == "0");
}

}  // namespace
}  // namespace zun::testing
