// CapsuleOps creates on the in-process fakes (capsule_ops_fixture.h): the
// runtime calls, images and credentials, volumes, init containers,
// rollbacks and cancellation.
#include "agent/capsule_ops.h"

#include "tests/unit/capsule_ops_fixture.h"

namespace zun::agent::ops_test {
namespace {

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

}  // namespace
}  // namespace zun::agent::ops_test
