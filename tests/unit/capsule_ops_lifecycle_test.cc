// CapsuleOps after a create, on the in-process fakes (capsule_ops_fixture.h):
// deletes, restart policies with their backoff, syncs, and claims that fail.
#include "agent/capsule_ops.h"
#include "tests/unit/capsule_ops_fixture.h"

namespace zun::agent::ops_test {
namespace {

TEST_CASE("delete is idempotent and removes the pod cgroup") {
  Fixture f;
  Capsule c = f.Make({f.Child("a", {"sleep", "3600"})});
  f.Create(c);
  const std::string cg = f.dir.path() + "/cgroup/memory/zun/pod" + c.uuid();
  REQUIRE(node::MakeDirs(cg + "/leaf", 0755).ok());
  REQUIRE(f.ops->Delete(c.uuid(), false, {}).ok());
  CHECK_FALSE(f.store.Get(c.uuid()).has_value());
  CHECK(f.runtime.NumSandboxes() == 0);
  CHECK_FALSE(
      node::PodCgroupExists(f.dir.path() + "/cgroup", "/zun/pod" + c.uuid()));
  CHECK(f.ops->Delete(c.uuid(), false, {}).ok());
}

TEST_CASE("delete removes the pod's log directories under every name it had") {
  Fixture f;
  const std::string logs = f.dir.path() + "/logs";
  // A delete first: the agent has listed the log root before the
  // directories below are made.
  Capsule first = f.Make({f.Child("a", {"sleep", "3600"})});
  f.Create(first);
  REQUIRE(f.ops->Delete(first.uuid(), false, {}).ok());
  CHECK(node::EntriesEndingWith(logs, "_" + first.uuid()).empty());
  Capsule c = f.Make({f.Child("a", {"sleep", "3600"})});
  Capsule other = f.Make({f.Child("a", {"sleep", "3600"})});
  f.Create(c);
  f.Create(other);
  // Renamed, then its sandbox recreated: a log directory under each name.
  Capsule renamed = f.Row(c.uuid());
  renamed.record.name = "renamed";
  f.store.Put(renamed);
  f.runtime.ForgetAllPods();
  f.RunAdvancing([&] { REQUIRE(f.ops->Sync(c.uuid()).ok()); });
  REQUIRE(node::EntriesEndingWith(logs, "_" + c.uuid()).size() == 2);
  REQUIRE(f.ops->Delete(c.uuid(), false, {}).ok());
  CHECK(node::EntriesEndingWith(logs, "_" + c.uuid()).empty());
  // Another capsule's directory stays.
  CHECK(node::EntriesEndingWith(logs, "_" + other.uuid()).size() == 1);
}

TEST_CASE("restart policy always: restarts with doubling backoff, counted") {
  Fixture f;
  Capsule c = f.Make({f.Child("crashy", {"sh", "-c", "sleep 1; exit 1"})});
  f.Create(c);
  const std::string uuid = c.uuid();
  std::vector<absl::Duration> gaps;
  absl::Time last_exit = f.clock.Now() + absl::Seconds(1);
  for (int restart = 1; restart <= 3; ++restart) {
    f.clock.AdvanceTime(absl::Seconds(1));  // it crashes
    absl::StatusOr<absl::Time> next = f.ops->Sync(uuid);
    REQUIRE(next.ok());
    REQUIRE(*next != absl::InfiniteFuture());
    CHECK(f.Row(uuid).containers[0].status == "Restarting");
    gaps.push_back(*next - last_exit);
    f.clock.AdvanceTime(*next - f.clock.Now());
    REQUIRE(f.ops->Sync(uuid).ok());
    Capsule row = f.Row(uuid);
    CHECK(row.containers[0].status == "Running");
    // The count, and the exit code of the attempt it replaced.
    CHECK(row.containers[0].status_detail ==
          "restarts: " + std::to_string(restart) + "; last exit 1");
    last_exit = f.clock.Now() + absl::Seconds(1);
  }
  CHECK(gaps == std::vector<absl::Duration>{
                    absl::Seconds(10), absl::Seconds(20), absl::Seconds(40)});
  CHECK(f.Row(uuid).record.status == "Running");
}

TEST_CASE(
    "restart policy on-failure stops after MaximumRetryCount, exit codes "
    "land") {
  Fixture f;
  Capsule c = f.Make({f.Child("job", {"sh", "-c", "sleep 1; exit 2"})}, {},
                     "on-failure");
  c.record.restart_policy["MaximumRetryCount"] = "1";
  f.store.Put(c);
  f.Create(c);
  f.clock.AdvanceTime(absl::Seconds(1));
  auto next = f.ops->Sync(c.uuid());
  REQUIRE(next.ok());
  f.clock.AdvanceTime(*next - f.clock.Now());
  REQUIRE(f.ops->Sync(c.uuid()).ok());  // restart 1
  f.clock.AdvanceTime(absl::Seconds(1));
  next = f.ops->Sync(c.uuid());
  REQUIRE(next.ok());
  CHECK(*next == absl::InfiniteFuture());
  Capsule row = f.Row(c.uuid());
  CHECK(row.containers[0].status == "Error");
  CHECK(row.containers[0].status_reason == "exited with code 2 (Error)");
  CHECK(row.containers[0].status_detail == "restarts: 1; last exit 2");
  CHECK(row.record.status == "Error");
}

TEST_CASE("policy no: exit 0 is Stopped, OOMKilled lands in the reason") {
  Fixture f;
  ContainerRecord ok = f.Child("ok", {"sh", "-c", "sleep 1; exit 0"});
  ContainerRecord oom = f.Child("oom", {"sleep", "3600"});
  oom.environment = {{"FAKE_CRI_SCRIPT", "oom after=2s"}};
  Capsule c = f.Make({ok, oom}, {}, "no");
  f.Create(c);
  f.clock.AdvanceTime(absl::Seconds(3));
  REQUIRE(f.ops->Sync(c.uuid()).ok());
  Capsule row = f.Row(c.uuid());
  CHECK(row.containers[0].status == "Stopped");
  CHECK(row.containers[1].status == "Error");
  CHECK(row.containers[1].status_reason == "exited with code 137 (OOMKilled)");
  CHECK(row.record.status == "Error");
  CHECK_THAT(*row.record.status_reason, Catch::Contains("OOMKilled"));
}

TEST_CASE("a steady capsule syncs without writing") {
  Fixture f;
  Capsule c = f.Make({f.Child("a", {"sleep", "3600"})});
  f.Create(c);
  const int64_t before = f.store.rows_written();
  for (int i = 0; i < 5; ++i) REQUIRE(f.ops->Sync(c.uuid()).ok());
  CHECK(f.store.rows_written() == before);
}

TEST_CASE("a vanished sandbox is recreated per policy, or the capsule fails") {
  Fixture f;
  Capsule always = f.Make({f.Child("a", {"sleep", "3600"})});
  Capsule never = f.Make({f.Child("a", {"sleep", "3600"})}, {}, "no");
  f.Create(always);
  f.Create(never);
  const std::string old_id = *f.Row(always.uuid()).record.container_id;
  f.runtime.ForgetAllPods();
  f.RunAdvancing([&] { REQUIRE(f.ops->Sync(always.uuid()).ok()); });
  REQUIRE(f.ops->Sync(never.uuid()).ok());
  Capsule a = f.Row(always.uuid());
  CHECK(a.record.status == "Running");
  CHECK(a.record.container_id != old_id);
  CHECK(f.Row(never.uuid()).record.status == "Error");
  CHECK_THAT(*f.Row(never.uuid()).record.status_reason,
             Catch::Contains("vanished"));
  CHECK(f.runtime.NumSandboxes() == 1);
}

TEST_CASE("a claim that fails for good fails the capsule once and acks") {
  Fixture f;
  Capsule c = f.Make({f.Child("a", {"sleep", "3600"})});
  f.store.SetClaimError(
      absl::InvalidArgumentError("column labels: invalid JSON"));
  bool acked = false;
  f.RunAdvancing(
      [&] { f.ops->Create(c.uuid(), {}, {}, [&] { acked = true; }); });
  CHECK(acked);                  // the message cannot come back
  CHECK(f.store.claims() == 1);  // not retried: it would fail the same way
  const Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Error");
  CHECK_THAT(row.record.status_reason.value_or(""),
             Catch::Contains("invalid JSON"));
  CHECK(f.released == std::vector<std::string>{c.uuid()});
  CHECK(f.cri.ListPodSandbox({})->empty());
}

TEST_CASE("a claim that fails transiently is retried, then fails for good") {
  Fixture f;
  Capsule c = f.Make({f.Child("a", {"sleep", "3600"})});
  f.store.SetClaimError(absl::AbortedError("serialization failure"));
  bool acked = false;
  const absl::Time start = f.clock.Now();
  f.RunAdvancing(
      [&] { f.ops->Create(c.uuid(), {}, {}, [&] { acked = true; }); });
  CHECK(acked);
  CHECK(f.store.claims() == f.opts.claim_attempts);
  // Bounded: about a minute of backoff, not forever.
  CHECK(f.clock.Now() - start > absl::Seconds(20));
  CHECK(f.clock.Now() - start < absl::Minutes(3));
  CHECK(f.Row(c.uuid()).record.status == "Error");
  CHECK_THAT(f.Row(c.uuid()).record.status_reason.value_or(""),
             Catch::Contains("serialization failure"));

  // A transient error that clears within the retries is no failure.
  Capsule d = f.Make({f.Child("b", {"sleep", "3600"})});
  f.store.SetClaimError(absl::UnavailableError("connection refused"), 2);
  f.Create(d);
  CHECK(f.Row(d.uuid()).record.status == "Running");
}

}  // namespace
}  // namespace zun::agent::ops_test
