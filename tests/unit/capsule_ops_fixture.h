// File: capsule_ops_fixture.h  (tests of agent/)
// CapsuleOps on the in-process fakes (FakeRuntime, MemCapsuleStore) and a
// simulated clock, for capsule_ops_test.cc (creates) and
// capsule_ops_lifecycle_test.cc (deletes, restarts, syncs, claims).
#pragma once

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/capsule_ops.h"
#include "capsule/labels.h"
#include "capsule/mapper.h"
#include "common/fernet.h"
#include "common/uuid.h"
#include "cri/fake_cri_client.h"
#include "cri/fake_runtime.h"
#include "db/mem_capsule_store.h"
#include "node/host_fs.h"
#include "tests/support/test_env.h"

namespace zun::agent::ops_test {

using capsule::Capsule;
using capsule::ContainerRecord;
using capsule::ContainerType;

inline cri::fake::FakeRuntimeOptions RuntimeOptions() {
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

}  // namespace zun::agent::ops_test
