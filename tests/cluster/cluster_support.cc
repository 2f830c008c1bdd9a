#include "tests/cluster/cluster_support.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

std::string Script(const std::string& name) {
  return SourceDir() + "/scripts/" + name;
}

// Runs one of our scripts; the test stops if it fails.
std::string RunScript(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env = {},
                      absl::Duration timeout = absl::Seconds(240)) {
  absl::StatusOr<CommandResult> r = RunCommand(argv, timeout, env);
  INFO(argv[0]);
  REQUIRE(r.ok());
  INFO(r->output);
  REQUIRE(r->exit_code == 0);
  return r->output;
}

int FirstLinePid(const std::string& path) {
  std::istringstream in(ReadFile(path));
  int pid = 0;
  in >> pid;
  return pid;
}

}  // namespace

std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(ReadFile(path), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumePrefix(&line, "export ");
    const size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == absl::string_view::npos) {
      continue;
    }
    absl::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out[std::string(line.substr(0, eq))] = std::string(value);
  }
  return out;
}

RabbitCluster::RabbitCluster(int first_port)
    : base_("/tmp/zun-test-rmqc-" + std::to_string(first_port)),
      first_port_(first_port) {
  RunScript({Script("start-rabbitmq-cluster.sh"), base_,
             std::to_string(first_port_), "3"});
  env_ = ReadEnvFile(base_ + "/cluster.env");
  REQUIRE(env_.count("RMQC_NODE2_DIR") == 1);
}

RabbitCluster::~RabbitCluster() {
  RunCommand({Script("stop-rabbitmq-cluster.sh"), base_, "--purge"},
             absl::Seconds(180))
      .IgnoreError();
}

std::string RabbitCluster::Url(int first) const {
  std::vector<std::string> hosts;
  for (int k = 0; k < 3; ++k) {
    hosts.push_back(
        absl::StrCat("guest:guest@127.0.0.1:", first_port_ + (first + k) % 3));
  }
  return absl::StrCat("rabbit://", absl::StrJoin(hosts, ","), "/");
}

int RabbitCluster::Connections(int i) const {
  const std::string dir = env_.at(absl::StrCat("RMQC_NODE", i, "_DIR"));
  absl::StatusOr<CommandResult> r =
      RunCommand({dir + "/rabbitmqctl", "-q", "--no-table-headers",
                  "list_connections", "peer_port"},
                 absl::Seconds(60));
  if (!r.ok() || r->exit_code != 0) return -1;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(r->output, '\n')) {
    int port = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &port)) ++n;
  }
  return n;
}

void RabbitCluster::Kill(int i) {
  const std::string dir = env_.at(absl::StrCat("RMQC_NODE", i, "_DIR"));
  const int pid = FirstLinePid(dir + "/rabbit.pid");
  REQUIRE(pid > 0);
  REQUIRE(kill(pid, SIGKILL) == 0);
}

void RabbitCluster::Restart(int i) {
  RunScript({Script("start-rabbitmq-cluster.sh"), base_,
             std::to_string(first_port_), "3", "--node", std::to_string(i)});
}

PostgresPair::PostgresPair(int primary_port, int standby_port)
    : base_("/tmp/zun-test-pgha-" + std::to_string(primary_port)),
      primary_port_(primary_port),
      standby_port_(standby_port) {
  RunScript({Script("start-postgres-ha.sh"), base_,
             std::to_string(primary_port), std::to_string(standby_port)});
  env_ = ReadEnvFile(base_ + "/ha.env");
  REQUIRE(env_.count("PGHA_PRIMARY_DIR") == 1);
}

PostgresPair::~PostgresPair() {
  RunCommand({Script("stop-postgres-ha.sh"), base_, "--purge"},
             absl::Seconds(120))
      .IgnoreError();
}

std::string PostgresPair::Url(const std::string& db) const {
  return absl::StrCat("postgresql://zun:zun@127.0.0.1:", primary_port_,
                      ",127.0.0.1:", standby_port_, "/", db,
                      "?target_session_attrs=read-write");
}

std::string PostgresPair::primary_socket() const {
  return env_.at("PGHA_PRIMARY_DIR") + "/sock";
}

std::string PostgresPair::standby_socket() const {
  return env_.at("PGHA_STANDBY_DIR") + "/sock";
}

void PostgresPair::KillPrimary() {
  const int pid = FirstLinePid(env_.at("PGHA_PRIMARY_PID_FILE"));
  REQUIRE(pid > 0);
  REQUIRE(kill(pid, SIGKILL) == 0);
}

void PostgresPair::PromoteStandby() {
  RunScript({Script("start-postgres-ha.sh"), base_,
             std::to_string(primary_port_), std::to_string(standby_port_),
             "--promote"});
}

PgBouncer::PgBouncer(int port, int pg_port)
    : base_("/tmp/zun-test-pgbouncer-" + std::to_string(port)), port_(port) {
  // Two server connections for the agent's eight clients: every
  // transaction may land on another one.
  RunScript({Script("start-pgbouncer.sh"), base_, std::to_string(port),
             "127.0.0.1", std::to_string(pg_port)},
            {{"PGB_POOL_SIZE", "2"}});
}

PgBouncer::~PgBouncer() {
  RunCommand({Script("stop-pgbouncer.sh"), base_, "--purge"}, absl::Seconds(60))
      .IgnoreError();
}

std::string PgBouncer::Url(const std::string& db) const {
  return absl::StrCat("postgresql://zun:zun@127.0.0.1:", port_, "/", db);
}

std::vector<std::map<std::string, std::string>> PgBouncer::Show(
    const std::string& what) const {
  // psql: libpqxx refuses the admin console (it reports no server version).
  absl::StatusOr<CommandResult> r = RunCommand(
      {"/usr/bin/psql", "-X", "--csv", "-h", "127.0.0.1", "-p",
       std::to_string(port_), "-U", "zun", "-d", "pgbouncer", "-c", what},
      absl::Seconds(30), {{"PGPASSWORD", "zun"}});
  REQUIRE(r.ok());
  INFO(r->output);
  REQUIRE(r->exit_code == 0);
  std::vector<std::map<std::string, std::string>> out;
  std::vector<std::string> header;
  for (absl::string_view line : absl::StrSplit(r->output, '\n')) {
    if (line.empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (header.empty()) {
      header = std::move(cells);
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i) {
      row[header[i]] = cells[i];
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::unique_ptr<Subprocess> StartPacedPublisher(
    const std::string& url, const std::vector<std::string>& extra,
    const std::string& file, double interval_s, const std::string& log) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   SourceDir() + "/tests/tools/oslo_client.py",
                                   "--url", url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--interval", std::to_string(interval_s),
                           "cast-paced", "--file", file});
  auto p = Subprocess::Start(argv, log, PyEnv());
  REQUIRE(p.ok());
  return *std::move(p);
}

int SentCount(const std::string& log) {
  std::istringstream in(ReadFile(log));
  std::string word;
  int n = 0;
  while (in >> word) n += word == "sent" ? 1 : 0;
  return n;
}

CapsuleBatch MakeBatch(AgentHarness& h, const std::string& prefix, int n) {
  CapsuleBatch b;
  for (int i = 0; i < n; ++i) {
    b.capsules.push_back(
        h.CreateCapsuleRows(prefix + std::to_string(i), {"busybox"}));
    b.casts.push_back({{"method", "container_create"},
                       {"args", h.CreateArgs(b.capsules.back())}});
  }
  return b;
}

}  // namespace zun::testing
