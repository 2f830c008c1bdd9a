// CapsuleOps on the in-process fakes (FakeRuntime, MemCapsuleStore) and a
// simulated clock: the create/delete/sync sequences, init containers,
// restart policies with their backoff, rollbacks and cancellation.
#include "agent/capsule_ops.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "capsule/labels.h"
#include "capsule/mapper.h"
#include "common/fernet.h"
#include "common/uuid.h"
#include "cri/fake_cri_client.h"
#include "cri/fake_runtime.h"
#include "db/mem_capsule_store.h"
#include "node/host_fs.h"
#include "tests/support/test_env.h"

namespace zun::agent {
namespace {

using capsule::Capsule;
using capsule::ContainerRecord;
using capsule::ContainerType;

cri::fake::FakeRuntimeOptions RuntimeOptions() {
  cri::fake::FakeRuntimeOptions o;
  o.preloaded_images = {"localhost/pause:3.6", "localhost/busybox:latest"};
  return o;
}

struct Fixture {
  Fixture() : runtime(clock, RuntimeOptions()), cri(runtime), dir("zo") {
    opts.mapper.host = "node-1";
    opts.mapper.log_root = dir.path() + "/logs";
    opts.mapper.cgroup_root = "/zun";
    opts.mapper.host_path_allowlist = {dir.path() + "/vol"};
    opts.cgroup_fs_root = dir.path() + "/cgroup";
    opts.volume_dir = dir.path() + "/vol";
    opts.registry_key = *ZunFernetKey(kZunDefaultEncryptionKey);
    opts.release_allocation = [this](const std::string& uuid) {
      released.push_back(uuid);
    };
    ops = std::make_unique<CapsuleOps>(store, cri, clock, registry, opts);
  }

  ContainerRecord Child(const std::string& name, std::vector<std::string> cmd,
                        ContainerType type = ContainerType::kCapsuleContainer) {
    ContainerRecord k;
    k.uuid = NewUuid4();
    k.name = name;
    k.container_type = type;
    k.status = "Creating";
    k.image = "localhost/busybox:latest";
    k.image_pull_policy = "ifnotpresent";
    k.command = std::move(cmd);
    k.memory = "64";
    return k;
  }

  Capsule Make(std::vector<ContainerRecord> containers,
               std::vector<ContainerRecord> inits = {},
               const std::string& policy = "always") {
    Capsule c;
    c.record.uuid = NewUuid4();
    c.record.name = "cap";
    c.record.status = "Creating";
    c.record.restart_policy = {{"Name", policy}, {"MaximumRetryCount", "0"}};
    c.containers = std::move(containers);
    c.init_containers = std::move(inits);
    store.Put(c);
    return c;
  }

  // Runs `fn` on a thread; whenever it waits on the clock, moves simulated
  // time exactly to the earliest deadline waited for, until it returns.
  void RunAdvancing(const std::function<void()>& fn) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      fn();
      done = true;
    });
    while (!done.load()) {
      std::optional<absl::Time> next = clock.NextDeadline();
      if (!next) {
        std::this_thread::yield();
        continue;
      }
      clock.AdvanceTime(std::max(absl::ZeroDuration(), *next - clock.Now()));
      while (!done.load() && clock.NextDeadline() == next) {
        std::this_thread::yield();
      }
    }
    t.join();
  }

  void Create(const Capsule& c) {
    RunAdvancing([&] { ops->Create(c.uuid(), {}, {}, [] {}); });
  }

  Capsule Row(const std::string& uuid) { return *store.Get(uuid); }

  SimulatedClock clock;
  cri::fake::FakeRuntime runtime;
  cri::fake::FakeCriClient cri;
  db::MemCapsuleStore store;
  CapsuleRegistry registry;
  testing::ScopedTempDir dir;
  OpsOptions opts;
  std::vector<std::string> released;  // allocations handed for release
  std::unique_ptr<CapsuleOps> ops;
};

TEST_CASE("create runs the sandbox and containers and records them") {
  Fixture f;
  Capsule c = f.Make(
      {f.Child("a", {"sleep", "3600"}), f.Child("b", {"sleep", "3600"})});
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Running");
  CHECK(row.record.host == "node-1");
  CHECK_FALSE(row.record.task_state.has_value());
  REQUIRE(row.record.container_id.has_value());
  CHECK(row.record.addresses["default"][0]["addr"].is_string());
  for (const auto& k : row.containers) {
    CHECK(k.status == "Running");
    REQUIRE(k.container_id.has_value());
    auto st = f.cri.ContainerStatus(*k.container_id);
    REQUIRE(st.ok());
    CHECK(st->state == cri::ContainerState::kRunning);
    CHECK(st->labels.at(std::string(capsule::kLabelContainerUuid)) == k.uuid);
  }
  // The shared image was looked at once, not pulled (ifnotpresent, present).
  CHECK(f.runtime.PullCount("localhost/busybox:latest") == 0);
  CHECK(f.registry.Get(c.uuid())->record.status == "Running");
  auto actions = f.store.actions();
  REQUIRE(actions.size() == 1);
  CHECK_THAT(actions[0],
             Catch::Contains("create compute__do_container_create") &&
                 Catch::EndsWith("Success"));
}

TEST_CASE("a first delivery makes the runtime calls it needs and no more") {
  Fixture f;
  Capsule c = f.Make(
      {f.Child("a", {"sleep", "3600"}), f.Child("b", {"sleep", "3600"})});
  CreateHints fresh;
  fresh.first_delivery = true;
  f.RunAdvancing([&] { f.ops->Create(c.uuid(), {}, fresh, [] {}); });
  REQUIRE(f.Row(c.uuid()).record.status == "Running");
  // One sandbox, its address, one image look-up (both use one image), and
  // a create and a start per container: nothing is listed.
  CHECK(f.cri.CallCounts() ==
        std::map<std::string, int>{{"RunPodSandbox", 1},
                                   {"PodSandboxStatus", 1},
                                   {"ImageStatus", 1},
                                   {"CreateContainer", 2},
                                   {"StartContainer", 2}});
}

TEST_CASE(
    "a create looks its images up while the sandbox starts and reads the "
    "sandbox's address while its containers start") {
  Fixture f;
  Capsule c = f.Make(
      {f.Child("a", {"sleep", "3600"}), f.Child("b", {"sleep", "3600"})});
  // A held call waits (10 s at most) for the call it should overlap with;
  // one after the other, the wait would run out.
  auto came = [&f](const std::string& method, int n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (f.cri.CallCounts()[method] < n) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  };
  std::atomic<bool> image_beside_sandbox{false}, address_beside_starts{false};
  f.cri.SetCallHook([&](std::string_view method) {
    if (method == "RunPodSandbox") {
      image_beside_sandbox = came("ImageStatus", 1);
    } else if (method == "PodSandboxStatus") {
      address_beside_starts = came("StartContainer", 2);
    }
  });
  CreateHints fresh;
  fresh.first_delivery = true;
  f.RunAdvancing([&] { f.ops->Create(c.uuid(), {}, fresh, [] {}); });
  f.cri.SetCallHook(nullptr);
  CHECK(image_beside_sandbox);
  CHECK(address_beside_starts);
  // The address read beside the starts is the one recorded.
  const Capsule row = f.Row(c.uuid());
  REQUIRE(row.record.status == "Running");
  absl::StatusOr<cri::SandboxStatusInfo> st =
      f.cri.PodSandboxStatus(*row.record.container_id);
  REQUIRE(st.ok());
  REQUIRE_FALSE(st->ip.empty());
  CHECK(row.record.addresses.dump().find(st->ip) != std::string::npos);
}

TEST_CASE("an image that fails while the sandbox starts fails its container") {
  Fixture f;
  ContainerRecord ok = f.Child("ok", {"sleep", "3600"});
  ContainerRecord never = f.Child("n", {"sleep", "1"});
  never.image = "registry.example/absent:1";
  never.image_pull_policy = "never";
  Capsule c = f.Make({ok, never});
  f.Create(c);
  const Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Error");
  CHECK_THAT(*row.record.status_reason, Catch::Contains("'never'"));
  // The failure is the container's whose image failed, not its sibling's.
  REQUIRE(row.containers.size() == 2);
  for (const ContainerRecord& child : row.containers) {
    CHECK(child.status == "Error");
    CHECK_THAT(
        child.status_reason.value_or(""),
        Catch::Contains(child.uuid == never.uuid ? "'never'" : "not started"));
  }
  // The sandbox that started beside the failed look-up is gone.
  absl::StatusOr<std::vector<cri::SandboxInfo>> left = f.cri.ListPodSandbox({});
  REQUIRE(left.ok());
  CHECK(left->empty());
}

TEST_CASE("a first delivery still replaces a sandbox a failed create left") {
  Fixture f;
  Capsule c = f.Make({f.Child("a", {"sleep", "3600"})});
  // An earlier create of the capsule whose rollback stopped its sandbox but
  // could not remove it: the stopped sandbox holds the name and attempt.
  absl::StatusOr<cri::PodSandboxConfig> left =
      capsule::BuildSandboxConfig(c, f.opts.mapper, 0);
  REQUIRE(left.ok());
  absl::StatusOr<std::string> old = f.cri.RunPodSandbox(*left, "");
  REQUIRE(old.ok());
  REQUIRE(f.cri.StopPodSandbox(*old).ok());
  CreateHints fresh;
  fresh.first_delivery = true;  // so the runtime is not listed first
  f.RunAdvancing([&] { f.ops->Create(c.uuid(), {}, fresh, [] {}); });
  Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Running");
  REQUIRE(row.record.container_id.has_value());
  CHECK(*row.record.container_id != *old);
  CHECK(f.runtime.NumSandboxes() == 1);  // the leftover is gone
}

TEST_CASE("an invalid capsule fails with a reason and creates nothing") {
  Fixture f;
  ContainerRecord bad = f.Child("a", {"sleep", "1"});
  bad.memory = "-5";
  Capsule c = f.Make({bad});
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Error");
  CHECK_THAT(*row.record.status_reason, Catch::Contains("memory '-5'"));
  CHECK_FALSE(row.record.task_state.has_value());
  CHECK(f.runtime.NumSandboxes() == 0);
}

TEST_CASE("images are pulled once per capsule and per policy") {
  Fixture f;
  ContainerRecord a = f.Child("a", {"sleep", "3600"});
  a.image = "registry.example/app:1";
  a.image_pull_policy = "always";
  ContainerRecord b = a;
  b.uuid = NewUuid4();
  b.name = "b";
  Capsule c = f.Make({a, b});
  f.Create(c);
  CHECK(f.Row(c.uuid()).record.status == "Running");
  CHECK(f.runtime.PullCount("registry.example/app:1") == 1);

  ContainerRecord never = f.Child("n", {"sleep", "1"});
  never.image = "registry.example/absent:1";
  never.image_pull_policy = "never";
  Capsule n = f.Make({never});
  f.Create(n);
  CHECK(f.Row(n.uuid()).record.status == "Error");
  CHECK_THAT(*f.Row(n.uuid()).record.status_reason, Catch::Contains("'never'"));
}

TEST_CASE("private registry credentials reach PullImage, decrypted") {
  Fixture f;
  ContainerRecord a = f.Child("a", {"sleep", "3600"});
  a.image = "private.example/app:1";
  a.registry_id = 7;
  Capsule c = f.Make({a});
  // As the Zun API stores it: a Fernet token under auth_encryption_key.
  c.registries[7] = capsule::RegistryCredentials{
      "private.example", "alice",
      *FernetEncrypt(f.opts.registry_key, "s3cret", 1700000000)};
  f.store.Put(c);
  f.Create(c);
  auto auth = f.runtime.LastPullAuth("private.example/app:1");
  REQUIRE(auth.has_value());
  CHECK(auth->username == "alice");
  CHECK(auth->password == "s3cret");
  CHECK(auth->server_address == "private.example");
  CHECK(f.released.empty());
}

TEST_CASE("a registry password under another key fails the capsule early") {
  Fixture f;
  ContainerRecord a = f.Child("a", {"sleep", "3600"});
  a.image = "private.example/app:1";
  a.registry_id = 7;
  Capsule c = f.Make({a});
  const std::string other_key =
      *ZunFernetKey("another key of thirty-two chars!");
  c.registries[7] = capsule::RegistryCredentials{
      "private.example", "alice",
      *FernetEncrypt(other_key, "top-secret-pw", 1700000000)};
  f.store.Put(c);
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Error");
  const std::string reason = row.record.status_reason.value_or("");
  CHECK_THAT(reason, Catch::Contains("auth_encryption_key"));
  CHECK_THAT(reason, Catch::Contains("private.example"));
  CHECK_THAT(reason, !Catch::Contains("top-secret-pw"));
  CHECK_FALSE(f.runtime.LastPullAuth("private.example/app:1").has_value());
  CHECK(f.cri.ListPodSandbox({})->empty());  // the runtime was not touched
  CHECK(f.released == std::vector<std::string>{c.uuid()});
}

TEST_CASE("volumes are mounted from the volume directory, read-only honoured") {
  Fixture f;
  ContainerRecord a = f.Child("a", {"sleep", "3600"});
  a.volumes = {{"/data", "", true, "v-1", "local"}};
  Capsule c = f.Make({a});
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  REQUIRE(row.record.status == "Running");
  auto cfg = f.runtime.ContainerConfigOf(*row.containers[0].container_id);
  REQUIRE(cfg.ok());
  REQUIRE(cfg->mounts.size() == 1);
  CHECK(cfg->mounts[0].host_path == f.dir.path() + "/vol/v-1");
  CHECK(cfg->mounts[0].readonly);
}

TEST_CASE("init containers run one at a time, in order, before the others") {
  Fixture f;
  Capsule c = f.Make({f.Child("main", {"sleep", "3600"})},
                     {f.Child("init1", {"sh", "-c", "sleep 2; exit 0"},
                              ContainerType::kCapsuleInitContainer),
                      f.Child("init2", {"sh", "-c", "sleep 1"},
                              ContainerType::kCapsuleInitContainer)});
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  REQUIRE(row.record.status == "Running");
  auto i1 = f.cri.ContainerStatus(*row.init_containers[0].container_id);
  auto i2 = f.cri.ContainerStatus(*row.init_containers[1].container_id);
  auto m = f.cri.ContainerStatus(*row.containers[0].container_id);
  REQUIRE((i1.ok() && i2.ok() && m.ok()));
  CHECK(i1->finished_at <= i2->started_at);
  CHECK(i2->finished_at <= m->started_at);
  CHECK(row.init_containers[0].status == "Stopped");
  CHECK(row.init_containers[1].status == "Stopped");
}

TEST_CASE(
    "a failing init container fails the capsule, naming it and its code") {
  Fixture f;
  Capsule c = f.Make({f.Child("main", {"sleep", "3600"})},
                     {f.Child("migrate", {"sh", "-c", "exit 3"},
                              ContainerType::kCapsuleInitContainer)},
                     "no");
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Error");
  CHECK_THAT(*row.record.status_reason,
             Catch::Contains("'migrate'") && Catch::Contains("code 3"));
  CHECK(row.init_containers[0].status == "Error");
  CHECK(row.containers[0].status == "Error");
  CHECK(f.runtime.NumSandboxes() == 0);  // rolled back
}

TEST_CASE("a failing init container is retried per policy with backoff") {
  Fixture f;
  ContainerRecord init = f.Child("flaky", {"sh", "-c", "exit 1"},
                                 ContainerType::kCapsuleInitContainer);
  init.restart_policy = {{"Name", "on-failure"}, {"MaximumRetryCount", "3"}};
  Capsule c = f.Make({f.Child("main", {"sleep", "3600"})}, {init});
  const absl::Time start = f.clock.Now();
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Error");
  CHECK_THAT(*row.record.status_reason, Catch::Contains("after 3 restarts"));
  // 10 + 20 + 40 s of backoff passed on the simulated clock.
  CHECK(f.clock.Now() - start >= absl::Seconds(70));
  CHECK(f.clock.Now() - start < absl::Seconds(75));
}

TEST_CASE("a failure mid-create rolls back everything it created") {
  Fixture f;
  ContainerRecord bad = f.Child("b", {"sleep", "3600"});
  bad.environment = {{"FAKE_CRI_SCRIPT", "create-fail"}};
  Capsule c = f.Make({f.Child("a", {"sleep", "3600"}), bad});
  f.Create(c);
  Capsule row = f.Row(c.uuid());
  CHECK(row.record.status == "Error");
  CHECK_THAT(*row.record.status_reason,
             Catch::Contains("creating container 'b'"));
  CHECK_FALSE(row.record.container_id.has_value());
  CHECK(f.runtime.NumSandboxes() == 0);
  CHECK(f.runtime.NumContainers() == 0);
  for (const auto& k : row.containers) CHECK(k.status == "Error");
}

TEST_CASE("a delete during a create cancels it and leaves nothing behind") {
  Fixture f;
  Capsule c = f.Make({f.Child("main", {"sleep", "3600"})},
                     {f.Child("forever", {"sleep", "100000"},
                              ContainerType::kCapsuleInitContainer)});
  std::atomic<bool> done{false};
  std::thread creator([&] {
    f.ops->Create(c.uuid(), {}, {}, [] {});
    done = true;
  });
  // Wait until the create waits on the init container, then delete.
  while (f.clock.NumWaiters() == 0) std::this_thread::yield();
  CHECK(f.runtime.NumSandboxes() == 1);
  f.ops->RequestCancel(c.uuid());
  creator.join();
  REQUIRE(f.ops->Delete(c.uuid(), false, {}).ok());
  CHECK_FALSE(f.store.Get(c.uuid()).has_value());
  CHECK(f.runtime.NumSandboxes() == 0);
}

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
}  // namespace zun::agent
