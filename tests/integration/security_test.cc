// Security controls as an operator or an attacker meets them: secrets kept
// out of every output, files created private, an untrusted CRI socket
// refused, and no way for capsule data to reach a shell.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/uuid.h"
#include "tests/support/agent_harness.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

void Rabbitmqctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TestEnv::Get().rmq_base + "/rabbitmqctl",
                                   "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> r = RunCommand(argv, absl::Seconds(60));
  REQUIRE(r.ok());
  INFO(r->output);
  REQUIRE(r->exit_code == 0);
}

std::string Body(int port, const std::string& path) {
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", path);
  return r.ok() ? r->body : "";
}

TEST_CASE(
    "credentials appear in no log line, metric, health report or "
    "reply, and the log file is private") {
  const std::string tag = NewUuid4Hex().substr(0, 8);
  const std::string amqp_user = "zsec" + tag;
  const std::string amqp_pw = "AmqpPw" + tag + "x";
  const std::string db_role = "zsec" + tag;
  const std::string db_pw = "DbPw" + tag + "y";
  const std::string reg_pw = "RegPw" + tag + "z";
  Rabbitmqctl({"add_user", amqp_user, amqp_pw});
  Rabbitmqctl({"set_permissions", "-p", "/", amqp_user, ".*", ".*", ".*"});

  const int dead_port = FreeTcpPort();
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  // The first broker refuses connections: the agent logs that failure (with
  // the URL it tried) before it fails over to the second.
  o.agent_transport_url = absl::StrCat(
      "rabbit://", amqp_user, ":", amqp_pw, "@127.0.0.1:", dead_port, ",",
      amqp_user, ":", amqp_pw, "@127.0.0.1:", TestEnv::Get().rmq_port, "/");
  o.agent_db_connection =
      absl::StrCat("postgresql://", db_role, ":", db_pw,
                   "@127.0.0.1:", TestEnv::Get().pg_port, "/{db}");
  o.start_agent = false;
  AgentHarness h(o);
  const std::string log_file = h.dir() + "/agent-file.log";
  {
    std::ofstream conf(h.config_path(), std::ios::app);
    conf << "[DEFAULT]\ndebug = true\nlog_file = " << log_file << "\n";
  }
  h.db().AdminExec(absl::StrCat("CREATE ROLE ", db_role, " LOGIN PASSWORD '",
                                db_pw, "' IN ROLE zun"));
  h.StartAgent();
  REQUIRE(h.WaitServing());

  // A child pulling from a private registry with a password.
  absl::StatusOr<int64_t> reg =
      h.api().CreateRegistry("registry.example", "tenant", reg_pw);
  REQUIRE(reg.ok());
  capsule::Capsule c;
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"}, false,
                                      "registry.example/app:1")};
  c.containers[0].registry_id = *reg;
  c = h.CreateCapsule(c);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  absl::StatusOr<nlohmann::json> shown =
      h.Call("container_show", {{"container", h.CapsulePrimitive(c)}});
  REQUIRE(shown.ok());
  // Pod logs are tenant data.
  struct stat log_dir {};
  REQUIRE(::stat((h.dir() + "/logs").c_str(), &log_dir) == 0);
  CHECK((log_dir.st_mode & 0007) == 0);
  const std::string metrics = Body(o.metrics_port, "/metrics");
  const std::string health = Body(o.metrics_port, "/healthz");
  REQUIRE(h.CastDelete(c).ok());
  REQUIRE(PollUntil([&] { return !h.CapsuleRow(c.uuid()).has_value(); }));
  REQUIRE(h.StopAgent().ok());

  const std::string log = ReadFile(log_file);
  const std::string stderr_log = ReadFile(h.dir() + "/zun-agent.log");
  // The failover was logged: the place where a URL would leak.
  CHECK(absl::StrContains(log, absl::StrCat(":", dead_port)));
  const std::pair<const char*, const std::string*> outputs[] = {
      {"log file", &log},
      {"stderr", &stderr_log},
      {"/metrics", &metrics},
      {"/healthz", &health},
  };
  const std::string reply = shown->dump();
  for (const std::string* secret : {&amqp_pw, &db_pw, &reg_pw}) {
    for (const auto& [name, text] : outputs) {
      INFO(name);
      CHECK_FALSE(absl::StrContains(*text, *secret));
    }
    CHECK_FALSE(absl::StrContains(reply, *secret));
  }
  CHECK_FALSE(metrics.empty());
  CHECK_FALSE(health.empty());

  struct stat st {};
  REQUIRE(::stat(log_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);

  h.db().AdminExec("DROP ROLE " + db_role);
  Rabbitmqctl({"delete_user", amqp_user});
}

TEST_CASE("an existing log file loses group-write and world bits") {
  HarnessOptions o;
  o.start_agent = false;
  AgentHarness h(o);
  const std::string log_file = h.dir() + "/open.log";
  std::ofstream(log_file) << "old line\n";
  REQUIRE(::chmod(log_file.c_str(), 0666) == 0);
  {
    std::ofstream conf(h.config_path(), std::ios::app);
    conf << "[DEFAULT]\nlog_file = " << log_file << "\n";
  }
  h.StartAgent();
  REQUIRE(h.WaitServing());
  struct stat st {};
  REQUIRE(::stat(log_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(absl::StartsWith(ReadFile(log_file), "old line\n"));  // appended
}

// The agent exits with an error instead of talking to the socket.
void ExpectRefused(AgentHarness& h) {
  h.StartAgent();
  absl::StatusOr<int> code = h.agent()->Wait(absl::Seconds(30));
  REQUIRE(code.ok());
  CHECK(*code == 1);
}

TEST_CASE("the agent refuses a CRI socket that others could have planted") {
  HarnessOptions o;
  o.start_agent = false;
  AgentHarness h(o);
  const std::string sock = h.dir() + "/cri.sock";

  SECTION("in a directory every user may write") {
    REQUIRE(::chmod(h.dir().c_str(), 0777) == 0);
    ExpectRefused(h);
    // The same socket in a private directory is served.
    REQUIRE(::chmod(h.dir().c_str(), 0700) == 0);
    h.StartAgent();
    CHECK(h.WaitServing());
  }
  SECTION("owned by another user") {
    REQUIRE(::chown(sock.c_str(), 4242, 4242) == 0);
    ExpectRefused(h);
  }
  SECTION("not a socket") {
    h.StopFakeCri();
    ::unlink(sock.c_str());
    std::ofstream(sock) << "not a socket";
    ExpectRefused(h);
  }
}

TEST_CASE("no shell or other program can be started by the agent binaries") {
  // Capsule commands reach the runtime only as CRI argv. The binaries do not
  // even import a function that starts a program or a shell.
  const char* kSpawners[] = {
      "system",      "popen",        "execl",  "execle",  "execlp",
      "execv",       "execve",       "execvp", "execvpe", "fexecve",
      "posix_spawn", "posix_spawnp", "wordexp"};
  for (const char* binary : {"zun-agent", "zun-capsule"}) {
    absl::StatusOr<CommandResult> r =
        RunCommand({"/usr/bin/nm", "-D", "--undefined-only", "--format=posix",
                    BinDir() + "/" + binary},
                   absl::Seconds(60));
    REQUIRE(r.ok());
    REQUIRE(r->exit_code == 0);
    INFO(binary);
    std::vector<std::string> symbols;
    for (absl::string_view line : absl::StrSplit(r->output, '\n')) {
      std::string name(line.substr(0, line.find(' ')));
      symbols.push_back(name.substr(0, name.find('@')));
    }
    REQUIRE(symbols.size() > 50);  // nm did list the imports
    for (const char* spawner : kSpawners) {
      CHECK(std::find(symbols.begin(), symbols.end(), spawner) ==
            symbols.end());
    }
  }
}

}  // namespace
}  // namespace zun::testing
