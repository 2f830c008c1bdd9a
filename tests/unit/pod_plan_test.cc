// PlanPod as a table: (rows, what the runtime shows, goal) -> plan. Each
// case builds the capsule's rows and the observed pod, plans, and checks
// the actions, the outcome and the rows to write.
#include "capsule/pod_plan.h"

#include <catch2/catch.hpp>

namespace zun::capsule {
namespace {

using Outcome = PodPlan::Outcome;
using cri::ContainerState;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);

ContainerRecord Row(const std::string& uuid, const std::string& name,
                    ContainerType type) {
  ContainerRecord r;
  r.uuid = uuid;
  r.name = name;
  r.container_type = type;
  r.image = "busybox";
  return r;
}

// A capsule "cap" with init containers i1, i2 (if `inits`) and containers
// c1, c2, under capsule restart policy `policy`.
Capsule Make(bool inits, const std::string& policy = "always") {
  Capsule c;
  c.record = Row("cap", "pod", ContainerType::kCapsule);
  c.record.status = "Creating";
  c.record.task_state = "container_creating";
  c.record.restart_policy = {{"Name", policy}};
  if (inits) {
    c.init_containers = {
        Row("i1", "init-1", ContainerType::kCapsuleInitContainer),
        Row("i2", "init-2", ContainerType::kCapsuleInitContainer)};
  }
  c.containers = {Row("c1", "web", ContainerType::kCapsuleContainer),
                  Row("c2", "side", ContainerType::kCapsuleContainer)};
  return c;
}

ObservedPod Sandbox(const std::string& id, uint32_t attempt = 0,
                    cri::SandboxState state = cri::SandboxState::kReady) {
  ObservedPod p;
  p.present = true;
  p.sandbox_id = id;
  p.sandbox_attempt = attempt;
  p.state = state;
  p.ip = "127.88.0.9";
  return p;
}

ObservedContainer Running(const std::string& id, uint32_t attempt = 0) {
  ObservedContainer o;
  o.id = id;
  o.attempt = attempt;
  o.state = ContainerState::kRunning;
  o.started_at = absl::ToUnixNanos(kNow - absl::Seconds(30));
  return o;
}

ObservedContainer Exited(const std::string& id, int code, uint32_t attempt = 0,
                         absl::Time finished = kNow - absl::Seconds(1)) {
  ObservedContainer o = Running(id, attempt);
  o.state = ContainerState::kExited;
  o.exit_code = code;
  o.reason = code == 0 ? "Completed" : "Error";
  o.started_at = absl::ToUnixNanos(finished - absl::Seconds(1));
  o.finished_at = absl::ToUnixNanos(finished);
  return o;
}

PlanInput Creating(const std::string& own = "") {
  PlanInput in;
  in.goal = Goal::kCreate;
  in.now = kNow;
  in.own_sandbox = own;
  in.network_name = "net";
  in.init_timeout = absl::Hours(1);
  in.init_deadline = kNow - absl::Minutes(1) + in.init_timeout;
  return in;
}

PlanInput Supervising() {
  PlanInput in;
  in.goal = Goal::kSupervise;
  in.now = kNow;
  in.network_name = "net";
  return in;
}

const RowChange* RowOf(const PodPlan& p, const std::string& uuid) {
  for (const RowChange& r : p.rows) {
    if (r.uuid == uuid) return &r;
  }
  return nullptr;
}

std::vector<std::string> StartIds(const PodPlan& p) {
  std::vector<std::string> out;
  for (const PlannedStart& s : p.starts) out.push_back(s.child_uuid);
  return out;
}

TEST_CASE("create: nothing in the runtime runs the first sandbox") {
  PodPlan p = PlanPod(Make(false), ObservedPod{}, Creating());
  CHECK(p.outcome == Outcome::kProgress);
  CHECK(p.create_sandbox);
  CHECK(p.sandbox_attempt == 0);
  CHECK(p.kill_sandboxes.empty());
  CHECK(p.rows.empty());
}

TEST_CASE("create: sandboxes of earlier attempts go, the next attempt runs") {
  ObservedPod pod = Sandbox("old-2", 2, cri::SandboxState::kNotReady);
  pod.other_sandboxes = {{"old-1", 1}};
  PodPlan p = PlanPod(Make(false), pod, Creating());
  CHECK(p.create_sandbox);
  CHECK(p.sandbox_attempt == 3);
  CHECK(p.kill_sandboxes == std::vector<std::string>{"old-2", "old-1"});
}

TEST_CASE("create: init containers run one at a time, in order") {
  const Capsule c = Make(true);
  ObservedPod pod = Sandbox("sb");
  SECTION("the first is started") {
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    REQUIRE(p.init.has_value());
    CHECK(p.init->child_uuid == "i1");
    CHECK(p.init->attempt == 0);
    CHECK(p.starts.empty());
  }
  SECTION("while it runs, the create waits for it") {
    pod.containers["i1"] = Running("i1-0");
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    CHECK(p.outcome == Outcome::kWait);
    CHECK(p.wait_for == "i1");
    CHECK_FALSE(p.init.has_value());
  }
  SECTION("once it exits 0, the second one starts") {
    pod.containers["i1"] = Exited("i1-0", 0);
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    REQUIRE(p.init.has_value());
    CHECK(p.init->child_uuid == "i2");
    CHECK(p.starts.empty());
  }
  SECTION("once all exited 0, the containers start together") {
    pod.containers["i1"] = Exited("i1-0", 0);
    pod.containers["i2"] = Exited("i2-0", 0);
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    CHECK(p.outcome == Outcome::kProgress);
    CHECK(StartIds(p) == std::vector<std::string>{"c1", "c2"});
  }
  SECTION("one that outlives its deadline fails the capsule") {
    pod.containers["i1"] = Running("i1-0");
    PlanInput in = Creating("sb");
    in.init_timeout = absl::Seconds(30);
    in.init_deadline = kNow - absl::Minutes(1) + in.init_timeout;
    PodPlan p = PlanPod(c, pod, in);
    CHECK(p.outcome == Outcome::kFailed);
    CHECK(p.timed_out);
    CHECK(p.failed_child == "i1");
    CHECK(p.failure == "init container 'init-1' did not finish within 30s");
  }
}

TEST_CASE("create: a failing init container follows its restart policy") {
  ObservedPod pod = Sandbox("sb");
  SECTION("policy no: the capsule fails, naming it and its code") {
    Capsule c = Make(true, "no");
    pod.containers["i1"] = Exited("i1-0", 3);
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    CHECK(p.outcome == Outcome::kFailed);
    CHECK(p.failed_child == "i1");
    CHECK(p.failure == "init container 'init-1' exited with code 3 (Error)");
  }
  SECTION("on-failure: restarted after the backoff, the row says so") {
    Capsule c = Make(true, "on-failure");
    pod.containers["i1"] = Exited("i1-0", 3, 1, kNow - absl::Seconds(5));
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    CHECK(p.outcome == Outcome::kWait);
    REQUIRE(p.init.has_value());
    CHECK(p.init->attempt == 2);
    CHECK(p.init->remove_id == "i1-0");
    // Restart 1 waits 2 x 10 s from the exit.
    CHECK(p.init->at == kNow + absl::Seconds(15));
    CHECK(p.wake == p.init->at);
    const RowChange* r = RowOf(p, "i1");
    REQUIRE(r != nullptr);
    CHECK(r->want.status == "Restarting");
    CHECK(r->want.status_reason ==
          "init container 'init-1' exited with code 3 (Error)");
    CHECK(r->want.status_detail == "restarts: 2");
  }
  SECTION("on-failure: due now, it is started at once") {
    Capsule c = Make(true, "on-failure");
    pod.containers["i1"] = Exited("i1-0", 3, 0, kNow - absl::Seconds(60));
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    CHECK(p.outcome == Outcome::kProgress);
    REQUIRE(p.init.has_value());
    CHECK(p.init->at <= kNow);
  }
  SECTION("on-failure:2 spent: the capsule fails, counting the restarts") {
    Capsule c = Make(true, "on-failure");
    c.init_containers[0].restart_policy = {{"Name", "on-failure"},
                                           {"MaximumRetryCount", "2"}};
    pod.containers["i1"] = Exited("i1-2", 1, 2);
    PodPlan p = PlanPod(c, pod, Creating("sb"));
    CHECK(p.outcome == Outcome::kFailed);
    CHECK(p.failure ==
          "init container 'init-1' exited with code 1 (Error) after 2 "
          "restarts");
  }
}

TEST_CASE("create: up once every container started, the rows say Running") {
  const Capsule c = Make(true);
  ObservedPod pod = Sandbox("sb");
  pod.containers["i1"] = Exited("i1-0", 0);
  pod.containers["i2"] = Exited("i2-0", 0);
  pod.containers["c1"] = Running("c1-0");
  pod.containers["c2"] = Running("c2-0");
  PlanInput in = Creating("sb");
  PodPlan p = PlanPod(c, pod, in);
  CHECK(p.outcome == Outcome::kUp);
  CHECK(p.starts.empty());
  const RowChange* cap = RowOf(p, "cap");
  REQUIRE(cap != nullptr);
  CHECK(cap->want.status == "Running");
  CHECK(cap->want.container_id == "sb");
  CHECK(cap->clear_creating);
  CHECK(cap->set_started_at);
  REQUIRE(cap->addresses.has_value());
  CHECK((*cap->addresses)["net"][0]["addr"] == "127.88.0.9");
  CHECK(RowOf(p, "i1")->want.status == "Stopped");
  CHECK(RowOf(p, "i1")->want.status_detail == "Completed (exit 0)");
  CHECK(RowOf(p, "i2")->want.container_id == "i2-0");
  CHECK(RowOf(p, "c1")->want.status == "Running");
  CHECK(RowOf(p, "c2")->want.container_id == "c2-0");
  CHECK(RowOf(p, "c2")->set_started_at);

  SECTION("with Neutron ports the address is theirs, not the runtime's") {
    in.ports_own_addresses = true;
    CHECK_FALSE(RowOf(PlanPod(c, pod, in), "cap")->addresses.has_value());
  }
}

TEST_CASE("create: a delete during the create cancels it at any step") {
  const Capsule c = Make(true);
  PlanInput in = Creating();
  in.cancelled = true;
  CHECK(PlanPod(c, ObservedPod{}, in).outcome == Outcome::kCancelled);
  ObservedPod pod = Sandbox("sb");
  pod.containers["i1"] = Running("i1-0");
  in.own_sandbox = "sb";
  PodPlan p = PlanPod(c, pod, in);
  CHECK(p.outcome == Outcome::kCancelled);
  CHECK_FALSE(p.init.has_value());
  CHECK(p.wait_for.empty());
}

TEST_CASE("create: the runtime losing the create's sandbox fails it") {
  ObservedPod pod = Sandbox("sb", 0, cri::SandboxState::kNotReady);
  PodPlan p = PlanPod(Make(false), pod, Creating("sb"));
  CHECK(p.outcome == Outcome::kFailed);
  CHECK(p.failure == "the pod sandbox stopped during the create");
  CHECK_FALSE(p.create_sandbox);
}

// Supervision starts from a capsule the create left Running.
Capsule Up(const std::string& policy) {
  Capsule c = Make(false, policy);
  c.record.status = "Running";
  c.record.task_state.reset();
  c.record.container_id = "sb";
  c.record.addresses = AddressesFor("net", "127.88.0.9");
  for (ContainerRecord& k : c.containers) {
    k.status = "Running";
    k.container_id = k.uuid + "-0";
  }
  return c;
}

TEST_CASE("supervise: nothing changed, nothing to do") {
  ObservedPod pod = Sandbox("sb");
  pod.containers["c1"] = Running("c1-0");
  pod.containers["c2"] = Running("c2-0");
  PodPlan p = PlanPod(Up("always"), pod, Supervising());
  CHECK(p.outcome == Outcome::kUp);
  CHECK(p.rows.empty());
  CHECK(p.starts.empty());
  CHECK(p.wake == absl::InfiniteFuture());
}

TEST_CASE("supervise: restart policies and backoff") {
  ObservedPod pod = Sandbox("sb");
  pod.containers["c2"] = Running("c2-0");
  SECTION("always: an exit is restarted after the backoff") {
    pod.containers["c1"] = Exited("c1-0", 1, 0, kNow - absl::Seconds(3));
    PodPlan p = PlanPod(Up("always"), pod, Supervising());
    CHECK(p.starts.empty());
    CHECK(p.wake == kNow + absl::Seconds(7));
    CHECK(RowOf(p, "c1")->want.status == "Restarting");
    CHECK(p.outcome == Outcome::kUp);
  }
  SECTION("always: due now, it is restarted as the next attempt") {
    pod.containers["c1"] = Exited("c1-0", 1, 0, kNow - absl::Seconds(30));
    PodPlan p = PlanPod(Up("always"), pod, Supervising());
    CHECK(p.outcome == Outcome::kProgress);
    REQUIRE(p.starts.size() == 1);
    CHECK(p.starts[0].child_uuid == "c1");
    CHECK(p.starts[0].attempt == 1);
    CHECK(p.starts[0].remove_id == "c1-0");
    CHECK(p.starts[0].last_exit_code == 1);
    CHECK(StartedRow(p.starts[0], "c1-1").status_detail ==
          "restarts: 1; last exit 1");
  }
  SECTION("no: exit 0 is Stopped and the capsule stops with it") {
    pod.containers["c1"] = Exited("c1-0", 0);
    pod.containers["c2"] = Exited("c2-0", 0);
    PodPlan p = PlanPod(Up("no"), pod, Supervising());
    CHECK(p.starts.empty());
    CHECK(RowOf(p, "c1")->want.status == "Stopped");
    REQUIRE(RowOf(p, "cap") != nullptr);
    CHECK(RowOf(p, "cap")->want.status == "Stopped");
  }
  SECTION("on-failure: a non-zero exit fails the capsule once spent") {
    Capsule c = Up("on-failure");
    c.record.restart_policy["MaximumRetryCount"] = "1";
    pod.containers["c1"] = Exited("c1-1", 2, 1);
    pod.containers["c2"] = Exited("c2-0", 0);
    PodPlan p = PlanPod(c, pod, Supervising());
    CHECK(p.starts.empty());
    CHECK(RowOf(p, "c1")->want.status == "Error");
    REQUIRE(RowOf(p, "cap") != nullptr);
    CHECK(RowOf(p, "cap")->want.status == "Error");
  }
  SECTION("a container gone from the runtime is started again at once") {
    PodPlan p = PlanPod(Up("always"), pod, Supervising());
    REQUIRE(p.starts.size() == 1);
    CHECK(p.starts[0].child_uuid == "c1");
    CHECK(p.starts[0].remove_id.empty());
  }
}

TEST_CASE("supervise: the runtime losing the sandbox") {
  SECTION("policy always: the capsule is created again") {
    PodPlan p = PlanPod(Up("always"), ObservedPod{}, Supervising());
    CHECK(p.outcome == Outcome::kRecreate);
  }
  SECTION("policy no: the rows say Error, nothing runs again") {
    PodPlan p = PlanPod(Up("no"), ObservedPod{}, Supervising());
    CHECK(p.outcome == Outcome::kPodLost);
    const RowChange* cap = RowOf(p, "cap");
    REQUIRE(cap != nullptr);
    CHECK(cap->want.status == "Error");
    CHECK(cap->container_id);
    CHECK_FALSE(cap->want.container_id.has_value());
  }
  SECTION("a capsule that is not meant to run is left alone") {
    Capsule c = Up("always");
    c.record.status = "Stopped";
    PodPlan p = PlanPod(c, ObservedPod{}, Supervising());
    CHECK(p.outcome == Outcome::kUp);
    CHECK(p.rows.empty());
  }
}

TEST_CASE("a failed create's rows name the child it is about") {
  const Capsule c = Make(true);
  std::vector<RowChange> rows = FailureRows(c, "boom", "c2", true);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].uuid == "cap");
  CHECK(rows[0].want.status == "Error");
  CHECK(rows[0].want.status_reason == "boom");
  CHECK(rows[0].clear_creating);
  CHECK(rows[0].clear_cni_metadata);
  CHECK(*rows[0].addresses == nlohmann::json::object());
  for (const RowChange& r : rows) {
    if (r.uuid == "cap") continue;
    CHECK(r.want.status_reason ==
          (r.uuid == "c2" ? "boom" : "not started: the capsule failed"));
  }
  CHECK_FALSE(FailureRows(c, "boom", "", false)[0].addresses.has_value());
}

TEST_CASE("a plan's row changes read as the rows will once written") {
  Capsule c = Up("always");
  ObservedPod pod = Sandbox("sb");
  pod.ip = "127.88.0.10";
  pod.containers["c1"] = Exited("c1-0", 1, 0, kNow - absl::Seconds(3));
  pod.containers["c2"] = Running("c2-0");
  ApplyRowChanges(PlanPod(c, pod, Supervising()).rows, c);
  CHECK(c.containers[0].status == "Restarting");
  CHECK(c.containers[1].status == "Running");
  CHECK(c.record.addresses["net"][0]["addr"] == "127.88.0.10");
}

}  // namespace
}  // namespace zun::capsule
