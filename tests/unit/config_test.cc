#include "config/config.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "common/logging.h"
#include "config/config_options.h"

namespace zun::agent {
namespace {

absl::StatusOr<config::AgentConfig> Parse(const std::string& text) {
  absl::StatusOr<IniFile> ini = IniFile::Parse(text, "test.conf");
  if (!ini.ok()) return ini.status();
  return config::ParseConfig(*ini);
}

const char kMinimal[] =
    "[DEFAULT]\n"
    "transport_url = rabbit://u:secret@h:5672/\n"
    "[database]\n"
    "connection = postgresql://zun:pw@db/zun\n";

TEST_CASE("the shipped sample configuration parses and validates") {
  absl::StatusOr<config::AgentConfig> c =
      config::LoadConfig(std::string(ZUN_SOURCE_DIR) + "/etc/zun-agent.conf");
  REQUIRE(c.ok());
  CHECK(c->control_exchange == "zun");
  CHECK(c->compute.topic == "zun-compute");
}

TEST_CASE("defaults follow zun.conf and the brief") {
  absl::StatusOr<config::AgentConfig> c = Parse(kMinimal);
  REQUIRE(c.ok());
  CHECK_FALSE(c->host.empty());  // the hostname
  CHECK(c->report_interval == absl::Seconds(10));
  CHECK(c->compute.reconcile_interval == absl::Seconds(2));
  CHECK(c->compute.inventory_interval == absl::Seconds(60));
  CHECK(c->cri.runtime_endpoint == "unix:///run/containerd/containerd.sock");
  CHECK(c->cri.runtime_handlers.at("runc").empty());
  CHECK(c->rabbit.heartbeat_timeout_threshold == 60);
  CHECK(c->volume.volume_dir == "/var/lib/zun/mnt");
}

TEST_CASE("typed values are parsed") {
  absl::StatusOr<config::AgentConfig> c =
      Parse(std::string(kMinimal) +
            "[cri]\n"
            "request_timeout = 2.5\n"
            "image_pull_timeout = 500ms\n"
            "runtime_handlers = runc:,kata:kata-qemu\n"
            "[compute]\n"
            "allow_privileged = yes\n"
            "host_path_allowlist = /srv/a, /srv/b\n"
            "max_concurrent_operations = 7\n");
  REQUIRE(c.ok());
  CHECK(c->cri.request_timeout == absl::Milliseconds(2500));
  CHECK(c->cri.image_pull_timeout == absl::Milliseconds(500));
  CHECK(c->cri.runtime_handlers.at("kata") == "kata-qemu");
  CHECK(c->compute.allow_privileged);
  CHECK(c->compute.host_path_allowlist ==
        std::vector<std::string>{"/srv/a", "/srv/b"});
  CHECK(c->compute.max_concurrent_operations == 7);
}

TEST_CASE("errors name the file, section and key") {
  auto unknown = Parse(std::string(kMinimal) + "[cri]\nrequest_timout = 3\n");
  REQUIRE(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(unknown.status().message()),
             Catch::Contains("test.conf") && Catch::Contains("[cri]") &&
                 Catch::Contains("request_timout"));
  auto bad =
      Parse(std::string(kMinimal) + "[compute]\nallow_privileged = maybe\n");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()),
             Catch::Contains("[compute] allow_privileged"));
  auto negative =
      Parse(std::string(kMinimal) + "[DEFAULT]\nreport_interval = -3\n");
  CHECK_FALSE(negative.ok());
  auto section = Parse(std::string(kMinimal) + "[comptue]\ntopic = x\n");
  REQUIRE_FALSE(section.ok());
  CHECK_THAT(std::string(section.status().message()),
             Catch::Contains("[comptue]"));
  auto missing = Parse("[DEFAULT]\nhost = x\n");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(std::string(missing.status().message()),
             Catch::Contains("transport_url"));
  auto handler =
      Parse(std::string(kMinimal) + "[DEFAULT]\ncontainer_runtime = kata\n");
  CHECK_FALSE(handler.ok());
}

TEST_CASE("a real zun.conf's other sections and options are accepted") {
  auto c =
      Parse(std::string(kMinimal) +
            "[DEFAULT]\nmy_ip = 10.0.0.1\nsandbox_image = kubernetes/pause\n"
            "[keystone_authtoken]\nwww_authenticate_uri = http://ks\n"
            "[api]\nenable_image_validation = false\n");
  CHECK(c.ok());
}

TEST_CASE("an upstream zun.conf: every option read, the rest listed unused") {
  const std::string path =
      std::string(ZUN_TEST_DATA_DIR) + "/zun-upstream.conf";
  absl::StatusOr<IniFile> ini = IniFile::Load(path);
  REQUIRE(ini.ok());
  // The file sets every option the agent reads (a new option must be added
  // to it).
  for (const config::config_internal::OptionDef& o :
       config::config_internal::Options()) {
    config::AgentConfig scratch;
    if (std::holds_alternative<config::config_internal::Ignored>(
            o.field(scratch))) {
      continue;
    }
    INFO("[" << o.section << "] " << o.name);
    CHECK(ini->Get(o.section, o.name) != nullptr);
  }
  absl::StatusOr<config::AgentConfig> c = config::ParseConfig(*ini);
  REQUIRE(c.ok());
  CHECK(c->host == "compute-7");
  CHECK(c->database.max_pool_size == 16);
  CHECK(c->compute.max_concurrent_operations == 64);
  CHECK(c->keystone_auth.username == "zun");
  CHECK(c->placement_client.endpoint_type == "internalURL");
  CHECK(c->NeutronPorts());
  CHECK(c->rabbit.amqp_durable_queues);
  CHECK(c->compute.cpu_allocation_ratio == 4.0);
  CHECK(c->cri.runtime_handlers.at("kata") == "kata");
  for (const char* unused :
       {"[DEFAULT] my_ip", "[DEFAULT] sandbox_image", "[database] max_overflow",
        "[compute] resume_container_state",
        "[oslo_messaging_rabbit] rabbit_login_method", "[volume] fstype",
        "[keystone_authtoken] (12 options of other services)",
        "[oslo_concurrency] (1 option of other services)"}) {
    INFO(unused);
    CHECK(std::count(c->unused.begin(), c->unused.end(), unused) == 1);
  }
  const std::string shown = config::DescribeConfig(*c);
  CHECK_THAT(shown, Catch::Contains("max_concurrent_operations = 64"));
  CHECK_THAT(shown, Catch::Contains("# [DEFAULT] my_ip"));
  for (const char* secret : {"RABBIT_PASS", "ZUN_DBPASS", "ZUN_PASS",
                             "KeyMustBeAtLeast32CharactersLong"}) {
    CHECK_THAT(shown, !Catch::Contains(secret));
  }
}

TEST_CASE("a database other than PostgreSQL is refused, saying why") {
  for (const char* url :
       {"mysql+pymysql://zun:pw@127.0.0.1/zun", "mysql://zun:pw@127.0.0.1/zun",
        "sqlite:///var/lib/zun/zun.db"}) {
    INFO(url);
    absl::StatusOr<config::AgentConfig> c =
        Parse(std::string("[DEFAULT]\ntransport_url = rabbit://u:s@h/\n"
                          "[database]\nconnection = ") +
              url + "\n");
    REQUIRE_FALSE(c.ok());
    const std::string why(c.status().message());
    CHECK_THAT(why, Catch::Contains("[database] connection: PostgreSQL is "
                                    "required"));
    CHECK_THAT(why, !Catch::Contains(":pw@"));
  }
  for (const char* url :
       {"postgresql+psycopg2://zun:pw@127.0.0.1/zun",
        "postgres://zun@127.0.0.1/zun", "host=/run/postgresql dbname=zun"}) {
    INFO(url);
    CHECK(Parse(std::string("[DEFAULT]\ntransport_url = rabbit://u:s@h/\n"
                            "[database]\nconnection = ") +
                url + "\n")
              .ok());
  }
}

TEST_CASE("the effective config shown by check-config never has credentials") {
  absl::StatusOr<config::AgentConfig> c = Parse(kMinimal);
  REQUIRE(c.ok());
  const std::string out = config::DescribeConfig(*c);
  CHECK_THAT(out, Catch::Contains("transport_url = rabbit://u:***@h:5672/"));
  CHECK_THAT(out, !Catch::Contains("secret"));
  CHECK_THAT(out, !Catch::Contains(":pw@"));
}

TEST_CASE(
    "INI syntax: continuation lines, comments, errors with line numbers") {
  auto ini = IniFile::Parse("# c\n[a]\nk = one\n  two\n; c\nx: y\n", "f");
  REQUIRE(ini.ok());
  CHECK(ini->Get("a", "k")->value == "one\ntwo");
  CHECK(ini->Get("a", "x")->value == "y");
  auto bad = IniFile::Parse("[a]\nnovalue\n", "f");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::StartsWith("f:2:"));
  CHECK_FALSE(IniFile::Parse("k = v\n", "f").ok());
  CHECK_FALSE(IniFile::Parse("[a\n", "f").ok());
}

}  // namespace
}  // namespace zun::agent

namespace zun::log {
namespace {

TEST_CASE("credentials are redacted from URLs and connection strings") {
  CHECK(RedactUrl("rabbit://u:secret@h:5672/") == "rabbit://u:***@h:5672/");
  CHECK(RedactUrl("rabbit://a:x@h1:1,b:y@h2:2/v?ssl=1") ==
        "rabbit://a:***@h1:1,b:***@h2:2/v?ssl=1");
  CHECK(RedactUrl("rabbit://h1:5672/") == "rabbit://h1:5672/");
  CHECK(RedactConnectionString(
            "host=/s port=1 user=z password=hunter2 dbname=d") ==
        "host=/s port=1 user=z password=*** dbname=d");
  CHECK(RedactConnectionString(
            "postgresql://z:pw@/d?host=/s&password=x&port=1") ==
        "postgresql://z:***@/d?host=/s&password=***&port=1");
  CHECK(RedactConnectionString("password = 'a b' user=z") ==
        "password = *** user=z");
}

}  // namespace
}  // namespace zun::log

namespace zun::agent {
namespace {

TEST_CASE("Keystone and Placement options, as zun.conf spells them") {
  absl::StatusOr<config::AgentConfig> none = Parse(kMinimal);
  REQUIRE(none.ok());
  CHECK_FALSE(config::PlacementConfigured(*none));
  CHECK(none->auth_encryption_key == kZunDefaultEncryptionKey);
  CHECK_FALSE(none->compute.cpu_allocation_ratio.has_value());
  CHECK(none->compute.initial_ram_allocation_ratio == 1.5);

  absl::StatusOr<config::AgentConfig> c = Parse(
      std::string(kMinimal) +
      "[keystone_auth]\nauth_url = http://ks:5000/v3\nusername = zun\n"
      "password = ks-secret\nproject_name = service\n"
      "default_domain_name = Default\nauth_section = ignored\n"
      "[placement_client]\nendpoint_type = internalURL\nregion_name = R2\n"
      "insecure = true\n"
      "[compute]\ncpu_allocation_ratio = 4\nram_allocation_ratio =\n"
      "host_shared_with_nova = true\n"
      "resource_provider_association_refresh = 60\n"
      "[DEFAULT]\nauth_encryption_key = 0123456789abcdef0123456789abcdef\n");
  REQUIRE(c.ok());
  CHECK(config::PlacementConfigured(*c));
  CHECK(c->keystone_auth.username == "zun");
  CHECK(c->placement_client.endpoint_type == "internalURL");
  CHECK(c->placement_client.insecure);
  CHECK(c->compute.cpu_allocation_ratio == 4.0);
  CHECK_FALSE(c->compute.ram_allocation_ratio.has_value());
  CHECK(c->compute.host_shared_with_nova);
  CHECK(c->compute.resource_provider_association_refresh == absl::Seconds(60));
  const std::string shown = config::DescribeConfig(*c);
  CHECK_THAT(shown, !Catch::Contains("ks-secret"));
  CHECK_THAT(shown, !Catch::Contains("0123456789abcdef"));
  CHECK_THAT(shown, Catch::Contains("password = ***"));

  auto no_password = Parse(std::string(kMinimal) +
                           "[keystone_auth]\nauth_url = http://ks/v3\n"
                           "username = zun\nproject_name = service\n");
  REQUIRE_FALSE(no_password.ok());
  CHECK_THAT(std::string(no_password.status().message()),
             Catch::Contains("[keystone_auth] password"));
  auto bad_type = Parse(std::string(kMinimal) +
                        "[keystone_auth]\nauth_type = v2password\n");
  CHECK_FALSE(bad_type.ok());
  auto admin_token = Parse(std::string(kMinimal) +
                           "[keystone_auth]\nauth_type = admin_token\n"
                           "token = t\nendpoint = http://placement:8778\n");
  REQUIRE(admin_token.ok());
  CHECK(config::PlacementConfigured(*admin_token));
  auto short_key =
      Parse(std::string(kMinimal) + "[DEFAULT]\nauth_encryption_key = short\n");
  REQUIRE_FALSE(short_key.ok());
  CHECK_THAT(std::string(short_key.status().message()),
             Catch::Contains("auth_encryption_key"));
  auto bad_ratio =
      Parse(std::string(kMinimal) + "[compute]\ncpu_allocation_ratio = -1\n");
  CHECK_FALSE(bad_ratio.ok());
}

}  // namespace
}  // namespace zun::agent
