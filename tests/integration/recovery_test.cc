// Reconciliation, recovery and node liveness with the agent as a process:
// kill -9 mid-create, PostgreSQL restarting under a stream of creates, the
// runtime losing its state, orphans, a steady state that writes nothing,
// the heartbeat and the inventory.
#include <catch2/catch.hpp>

#include "capsule/labels.h"
#include "capsule/mapper.h"
#include "cri/fake_control_client.h"
#include "tests/support/agent_harness.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

int CountWhere(AgentHarness& h, const std::string& where) {
  auto rows =
      h.db().Query("SELECT count(*) AS n FROM container WHERE " + where);
  return std::stoi(*rows[0]["n"]);
}

std::vector<capsule::Capsule> CreateMany(AgentHarness& h, int n,
                                         std::vector<nlohmann::json>* casts,
                                         const std::string& policy = "always") {
  std::vector<capsule::Capsule> out;
  for (int i = 0; i < n; ++i) {
    capsule::Capsule c;
    c.record.restart_policy = {{"Name", policy}, {"MaximumRetryCount", "0"}};
    c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
    out.push_back(h.CreateCapsule(c));
    if (casts != nullptr) {
      casts->push_back(
          {{"method", "container_create"}, {"args", h.CreateArgs(out.back())}});
    }
  }
  return out;
}

// Every capsule row has exactly one sandbox and every sandbox a row.
void CheckOneToOne(AgentHarness& h,
                   const std::vector<capsule::Capsule>& capsules) {
  auto sandboxes = h.cri().ListPodSandbox({});
  REQUIRE(sandboxes.ok());
  std::map<std::string, int> per_capsule;
  for (const auto& sb : *sandboxes) {
    ++per_capsule[sb.labels.at(std::string(capsule::kLabelCapsuleUuid))];
  }
  CHECK(per_capsule.size() == capsules.size());
  for (const auto& c : capsules) {
    CAPTURE(c.uuid());
    CHECK(per_capsule[c.uuid()] == 1);
    auto row = h.CapsuleRow(c.uuid());
    REQUIRE(row);
    bool matches = false;
    for (const auto& sb : *sandboxes)
      matches |= sb.id == (*row)["container_id"];
    CHECK(matches);
  }
}

TEST_CASE(
    "kill -9 during 50 creates: after a restart all 50 run, nothing leaks") {
  HarnessOptions o;
  o.fake_cri_args = {"--fault", "StartContainer=latency:600ms"};
  o.extra_config = "[compute]\nmax_concurrent_operations = 6\n";
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  std::vector<nlohmann::json> casts;
  auto capsules = CreateMany(h, 50, &casts);
  REQUIRE(h.CastMany(casts).ok());
  REQUIRE(PollUntil([&] { return CountWhere(h, "status = 'Running'") >= 10; }));
  h.KillAgent();
  REQUIRE(CountWhere(h, "container_type = 1 AND status = 'Running'") < 50);
  h.StartAgent();
  REQUIRE(PollUntil(
      [&] {
        return CountWhere(h, "container_type = 1 AND status = 'Running'") == 50;
      },
      absl::Seconds(120), absl::Milliseconds(250)));
  CheckOneToOne(h, capsules);
  CHECK(CountWhere(h, "task_state IS NOT NULL") == 0);
}

TEST_CASE(
    "the runtime restarts and loses its state: capsules recreated or failed") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  auto keep = CreateMany(h, 3, nullptr, "always");
  auto lose = CreateMany(h, 2, nullptr, "no");
  for (const auto* list : {&keep, &lose}) {
    for (const auto& c : *list) REQUIRE(h.CastCreate(c).ok());
  }
  REQUIRE(PollUntil([&] { return CountWhere(h, "status = 'Running'") == 10; }));
  std::map<std::string, std::string> before;
  for (const auto& c : keep)
    before[c.uuid()] = *(*h.CapsuleRow(c.uuid()))["container_id"];
  cri::fake::FakeCriControlClient control(h.cri_endpoint());
  REQUIRE(control.Restart(/*keep_state=*/false, absl::Milliseconds(300)).ok());
  REQUIRE(PollUntil([&] {
    for (const auto& c : keep) {
      auto row = h.CapsuleRow(c.uuid());
      if ((*row)["status"] != "Running" ||
          (*row)["container_id"] == before[c.uuid()]) {
        return false;
      }
    }
    for (const auto& c : lose) {
      if (h.StatusOf(c.uuid()) != "Error") return false;
    }
    return true;
  }));
  for (const auto& c : lose) {
    CHECK_THAT(*(*h.CapsuleRow(c.uuid()))["status_reason"],
               Catch::Contains("vanished"));
  }
  CHECK(h.cri().ListPodSandbox({})->size() == keep.size());
}

TEST_CASE(
    "a sandbox created behind the agent's back is removed after the grace") {
  HarnessOptions o;
  o.extra_config = "[compute]\norphan_grace_period = 1\n";
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  auto mine = CreateMany(h, 1, nullptr);
  REQUIRE(h.CastCreate(mine[0]).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(mine[0].uuid()) == "Running"; }));
  cri::PodSandboxConfig orphan;
  orphan.name = "orphan";
  orphan.uid = "3b0e7c8e-0000-4000-8000-00000000abcd";
  orphan.namespace_ = "default";
  orphan.labels = capsule::SandboxOwnerLabels(h.host(), orphan.uid);
  auto id = h.cri().RunPodSandbox(orphan, "");
  REQUIRE(id.ok());
  // Someone else's sandbox (another host's labels) is left alone.
  cri::PodSandboxConfig foreign = orphan;
  foreign.name = "foreign";
  foreign.labels = capsule::SandboxOwnerLabels("another-host", orphan.uid);
  auto foreign_id = h.cri().RunPodSandbox(foreign, "");
  REQUIRE(foreign_id.ok());
  REQUIRE(PollUntil([&] {
    return h.cri().PodSandboxStatus(*id).status().code() ==
           absl::StatusCode::kNotFound;
  }));
  CHECK(h.cri().PodSandboxStatus(*foreign_id).ok());
  CHECK(h.StatusOf(mine[0].uuid()) == "Running");
  CHECK(h.cri().ListPodSandbox({})->size() == 2);
}

TEST_CASE("a steady state of 500 running capsules costs no database writes") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  std::vector<nlohmann::json> casts;
  auto capsules = CreateMany(h, 500, &casts);
  REQUIRE(h.CastMany(casts).ok());
  REQUIRE(PollUntil([&] { return CountWhere(h, "status = 'Running'") == 1000; },
                    absl::Seconds(120), absl::Milliseconds(250)));
  // Count every write to the container table from now on.
  h.db().Exec(
      "CREATE TABLE writes (n BIGINT NOT NULL); INSERT INTO writes VALUES (0);"
      "CREATE FUNCTION count_write() RETURNS trigger AS $$ BEGIN UPDATE "
      "writes SET n = n + 1; RETURN NULL; END $$ LANGUAGE plpgsql;"
      "CREATE TRIGGER count_writes AFTER INSERT OR UPDATE OR DELETE ON "
      "container FOR EACH ROW EXECUTE FUNCTION count_write();");
  // The harness relists every 0.5 s; fake-cri counts the relist calls.
  cri::fake::FakeCriControlClient control(h.cri_endpoint());
  auto lists = [&] { return control.Stats()->calls["ListContainers"]; };
  const int64_t start = lists();
  REQUIRE(PollUntil([&] { return lists() >= start + 6; }));
  CHECK(h.db().Query("SELECT n FROM writes")[0]["n"] == "0");
}

TEST_CASE("heartbeat and inventory rows carry real content") {
  HarnessOptions o;
  o.extra_config = "[compute]\ninventory_interval = 1\n";
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  std::vector<capsule::Capsule> caps;
  for (double cpu : {1.5, 0.5}) {
    capsule::Capsule c;
    c.record.cpu = cpu;
    c.record.memory = "256";
    c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
    caps.push_back(h.CreateCapsule(c));
    REQUIRE(h.CastCreate(caps.back()).ok());
  }
  REQUIRE(PollUntil([&] { return CountWhere(h, "status = 'Running'") == 4; }));
  // report_interval is 1 s in the harness: report_count grows.
  auto svc = [&] {
    return h.db().Query("SELECT * FROM zun_service WHERE host = '" + h.host() +
                        "'");
  };
  REQUIRE(PollUntil([&] {
    auto rows = svc();
    return rows.size() == 1 && std::stoi(*rows[0]["report_count"]) >= 3;
  }));
  auto s = svc()[0];
  CHECK(s["binary"] == "zun-compute");
  CHECK(s["availability_zone"] == "nova");
  CHECK(s["disabled"] == "f");
  CHECK(s["forced_down"] == "f");
  REQUIRE(s["last_seen_up"].has_value());
  auto age = h.db().Query(
      "SELECT EXTRACT(EPOCH FROM (now() AT TIME ZONE 'utc' - last_seen_up)) AS "
      "s "
      "FROM zun_service WHERE host = '" +
      h.host() + "'");
  CHECK(std::stod(*age[0]["s"]) < 30);

  // The inventory counts the capsules on this host and what they claim.
  auto node = [&] {
    return h.db().Query("SELECT * FROM compute_node WHERE hostname = '" +
                        h.host() + "'");
  };
  REQUIRE(PollUntil([&] {
    auto rows = node();
    return rows.size() == 1 && rows[0]["running_containers"] == "2";
  }));
  auto n = node()[0];
  CHECK(n["total_containers"] == "2");
  CHECK(std::stod(*n["cpu_used"]) == 2.0);
  CHECK(n["mem_used"] == "512");
  CHECK(std::stoi(*n["mem_free"]) == std::stoi(*n["mem_total"]) - 512);
  CHECK(std::stoi(*n["cpus"]) >= 1);
  CHECK(std::stoi(*n["mem_total"]) > 0);
  CHECK(std::stoi(*n["disk_total"]) > 0);
  CHECK(n["rp_uuid"] == n["uuid"]);
  CHECK_FALSE(n["architecture"].value_or("").empty());
  CHECK_FALSE(n["kernel_version"].value_or("").empty());
  CHECK(n["os_type"] == "linux");
  CHECK_THAT(*n["runtimes"], Catch::Contains("runc"));
  CHECK_THAT(*n["numa_topology"], Catch::Contains("nodes"));
}

}  // namespace
}  // namespace zun::testing

namespace zun::testing {
namespace {

class PrivatePostgres {
 public:
  PrivatePostgres() : port_(5446), base_("/tmp/zun-test-pg-restart-5446") {
    Start();
  }
  ~PrivatePostgres() {
    RunCommand({Script("stop-postgres.sh"), base_, "--purge"},
               absl::Seconds(60))
        .IgnoreError();
  }
  void Start() {
    auto r =
        RunCommand({Script("start-postgres.sh"), base_, std::to_string(port_)},
                   absl::Seconds(120));
    REQUIRE(r.ok());
    REQUIRE(r->exit_code == 0);
  }
  void Stop() {
    auto r = RunCommand({Script("stop-postgres.sh"), base_}, absl::Seconds(60));
    REQUIRE(r.ok());
  }
  std::string socket() const { return base_ + "/sock"; }
  int port() const { return port_; }

 private:
  static std::string Script(const char* name) {
    return SourceDir() + "/scripts/" + name;
  }
  int port_;
  std::string base_;
};

TEST_CASE("PostgreSQL restarts during a stream of creates: all converge") {
  PrivatePostgres pg;
  HarnessOptions o;
  o.pg_socket = pg.socket();
  o.pg_port = pg.port();
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  std::vector<nlohmann::json> casts;
  auto capsules = CreateMany(h, 30, &casts);
  const std::string log = h.dir() + "/publisher.log";
  auto publisher = Subprocess::Start(
      {"/usr/bin/python3", SourceDir() + "/tests/tools/oslo_client.py", "--url",
       h.amqp_url(), "--interval", "0.1", "cast-paced", "--file",
       h.WriteCastFile(casts)},
      log, PyEnv());
  REQUIRE(publisher.ok());
  REQUIRE(PollUntil(
      [&] { return ReadFile(log).find("sent 8 ") != std::string::npos; }));
  // The show below waits behind capsule 0's create (one key, one worker):
  // that create must not be retrying the database it is about to lose.
  REQUIRE(
      PollUntil([&] { return h.StatusOf(capsules[0].uuid()) == "Running"; }));
  pg.Stop();
  // While the database is down, container_show is served from memory.
  auto shown =
      h.Call("container_show",
             {{"container",
               {{"zun_object.name", "Capsule"},
                {"zun_object.namespace", "zun"},
                {"zun_object.version", "1.4"},
                {"zun_object.data", {{"uuid", capsules[0].uuid()}}}}}});
  REQUIRE(shown.ok());
  CHECK(shown->contains("result"));
  pg.Start();
  REQUIRE((*publisher)->Wait(absl::Seconds(120)).ok());
  REQUIRE(PollUntil(
      [&] {
        return CountWhere(h, "container_type = 1 AND status = 'Running'") == 30;
      },
      absl::Seconds(180), absl::Milliseconds(250)));
  CheckOneToOne(h, capsules);
}

}  // namespace
}  // namespace zun::testing
