// RpcEndpoint's dispatch through the FakeRpcBus, on the in-process fakes
// (FakeRuntime, MemCapsuleStore): every method family, the ack, requeue
// and reply decisions, failures, and version checks.
#include "agent/rpc_endpoint.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "common/fernet.h"
#include "common/uuid.h"
#include "cri/fake_cri_client.h"
#include "cri/fake_runtime.h"
#include "db/mem_capsule_store.h"
#include "rpc/fake_rpc_bus.h"
#include "rpc/zun_object.h"
#include "tests/support/poll.h"
#include "tests/support/test_env.h"

namespace zun::agent {
namespace {

using rpc::Settled;
constexpr absl::Duration kWait = absl::Seconds(20);

struct Endpoint {
  Endpoint()
      : runtime(clock, Options()), cri(runtime), dir("zre"), executor(4) {
    opts.mapper.host = "node-1";
    opts.mapper.log_root = dir.path() + "/logs";
    opts.mapper.cgroup_root = "/zun";
    opts.cgroup_fs_root = dir.path() + "/cgroup";
    opts.volume_dir = dir.path() + "/vol";
    opts.registry_key = *ZunFernetKey(kZunDefaultEncryptionKey);
    ops = std::make_unique<CapsuleOps>(store, cri, clock, registry, opts);
    endpoint = std::make_unique<RpcEndpoint>(*ops, executor);
    REQUIRE(bus.Start(*endpoint).ok());
    // Whatever waits on the simulated clock (backoffs, grace periods) is
    // moved on at once, so the operations finish.
    driver = std::thread([this] {
      while (!stop.load()) {
        if (std::optional<absl::Time> next = clock.NextDeadline()) {
          clock.AdvanceTime(
              std::max(absl::ZeroDuration(), *next - clock.Now()));
        }
        std::this_thread::yield();
      }
    });
  }
  ~Endpoint() {
    bus.Stop();
    executor.Shutdown(absl::Seconds(30));
    stop = true;
    driver.join();
  }

  static cri::fake::FakeRuntimeOptions Options() {
    cri::fake::FakeRuntimeOptions o;
    o.preloaded_images = {"localhost/pause:3.6", "localhost/busybox:latest"};
    return o;
  }

  // A capsule in the database as the API leaves it before the cast.
  capsule::Capsule Stored() {
    capsule::Capsule c;
    c.record.uuid = NewUuid4();
    c.record.name = "cap";
    c.record.status = "Creating";
    c.record.restart_policy = {{"Name", "always"}, {"MaximumRetryCount", "0"}};
    capsule::ContainerRecord k;
    k.uuid = NewUuid4();
    k.name = "c0";
    k.container_type = capsule::ContainerType::kCapsuleContainer;
    k.status = "Creating";
    k.image = "localhost/busybox:latest";
    k.image_pull_policy = "ifnotpresent";
    k.command = {"sleep", "3600"};
    c.containers.push_back(k);
    store.Put(c);
    return c;
  }

  static nlohmann::json Primitive(const capsule::Capsule& c) {
    return nlohmann::json::parse(rpc::EncodeCapsule(c, "1.4").dump());
  }

  static rpc::IncomingMessage Message(const std::string& method,
                                      nlohmann::json args, bool call) {
    rpc::IncomingMessage m;
    m.method = method;
    m.args = std::move(args);
    m.context.request_id = "req-" + NewUuid4Hex().substr(0, 8);
    if (call) {
      m.msg_id = NewUuid4Hex();
      m.reply_q = "reply_" + NewUuid4Hex();
    }
    return m;
  }

  std::shared_ptr<const rpc::DeliveryRecord> Deliver(rpc::IncomingMessage m) {
    auto r = bus.Deliver(std::move(m));
    REQUIRE(r.ok());
    return *r;
  }

  SimulatedClock clock;
  cri::fake::FakeRuntime runtime;
  cri::fake::FakeCriClient cri;
  db::MemCapsuleStore store;
  CapsuleRegistry registry;
  testing::ScopedTempDir dir;
  OpsOptions opts;
  KeyedExecutor executor;
  std::unique_ptr<CapsuleOps> ops;
  std::unique_ptr<RpcEndpoint> endpoint;
  rpc::FakeRpcBus bus;
  std::atomic<bool> stop{false};
  std::thread driver;
};

TEST_CASE("create: acked once claimed, then Running") {
  Endpoint e;
  capsule::Capsule c = e.Stored();
  auto d = e.Deliver(Endpoint::Message(
      "container_create", {{"container", Endpoint::Primitive(c)}}, false));
  CHECK(d->WaitSettled(kWait) == Settled::kAck);
  REQUIRE(testing::PollUntil(
      [&] { return e.store.Get(c.uuid())->record.status == "Running"; }));
  CHECK(e.store.Get(c.uuid())->record.host == "node-1");
  CHECK(e.endpoint->Counts()["container_create/dispatched"] == 1);
  CHECK(e.bus.Counters().received == 1);
}

TEST_CASE("show: a call answered with the capsule, or ContainerNotFound") {
  Endpoint e;
  capsule::Capsule c = e.Stored();
  auto shown = e.Deliver(Endpoint::Message(
      "container_show", {{"container", Endpoint::Primitive(c)}}, true));
  REQUIRE(shown->WaitSettled(kWait) == Settled::kReply);
  const rpc::OrderedJson result = *shown->result();
  INFO(result.dump());
  CHECK(result.value("zun_object.name", "") == "Capsule");
  REQUIRE(result.contains("zun_object.data"));
  CHECK(result["zun_object.data"].value("uuid", "") == c.uuid());
  CHECK(shown->extra_answers() == 0);

  capsule::Capsule ghost = c;
  ghost.record.uuid = NewUuid4();
  auto missing = e.Deliver(Endpoint::Message(
      "container_show", {{"container", Endpoint::Primitive(ghost)}}, true));
  REQUIRE(missing->WaitSettled(kWait) == Settled::kFail);
  CHECK(missing->error()->cls == "ContainerNotFound");
}

TEST_CASE("delete: acked on receipt (the intent is in the database)") {
  Endpoint e;
  capsule::Capsule c = e.Stored();
  auto created = e.Deliver(Endpoint::Message(
      "container_create", {{"container", Endpoint::Primitive(c)}}, false));
  REQUIRE(created->WaitSettled(kWait) == Settled::kAck);
  REQUIRE(testing::PollUntil(
      [&] { return e.store.Get(c.uuid())->record.status == "Running"; }));
  auto d = e.Deliver(Endpoint::Message(
      "container_delete",
      {{"container", Endpoint::Primitive(c)}, {"force", false}}, false));
  CHECK(d->how() == Settled::kAck);  // before any work
  REQUIRE(
      testing::PollUntil([&] { return !e.store.Get(c.uuid()).has_value(); }));
  CHECK(e.runtime.NumSandboxes() == 0);

  auto bad = e.Deliver(Endpoint::Message(
      "container_delete",
      {{"container", Endpoint::Primitive(c)}, {"force", "yes"}}, false));
  CHECK(bad->WaitSettled(kWait) == Settled::kAck);  // a cast: dropped
  CHECK(e.endpoint->Counts()["container_delete/invalid"] == 1);
}

TEST_CASE("a plain container is refused: acked, its row in Error") {
  Endpoint e;
  capsule::Capsule c = e.Stored();
  nlohmann::json plain = Endpoint::Primitive(c);
  plain["zun_object.name"] = "Container";
  auto d = e.Deliver(
      Endpoint::Message("container_create", {{"container", plain}}, false));
  CHECK(d->WaitSettled(kWait) == Settled::kAck);
  REQUIRE(testing::PollUntil(
      [&] { return e.store.Get(c.uuid())->record.status == "Error"; }));
  CHECK(e.endpoint->Counts()["container_create/refused"] == 1);
  CHECK(e.runtime.NumSandboxes() == 0);
}

TEST_CASE("unusable arguments: a call fails with Invalid, a cast is dropped") {
  Endpoint e;
  auto call = e.Deliver(Endpoint::Message("container_show", {}, true));
  REQUIRE(call->WaitSettled(kWait) == Settled::kFail);
  CHECK(call->error()->cls == "Invalid");
  auto cast = e.Deliver(Endpoint::Message(
      "container_create", {{"container", {{"not", "an object"}}}}, false));
  CHECK(cast->WaitSettled(kWait) == Settled::kAck);
  CHECK(e.endpoint->Counts()["container_create/invalid"] == 1);
}

TEST_CASE("methods: unknown and private ones, Zun's unserved ones") {
  Endpoint e;
  for (const char* m : {"no_such_thing", "_private"}) {
    auto call = e.Deliver(Endpoint::Message(m, {}, true));
    REQUIRE(call->WaitSettled(kWait) == Settled::kFail);
    CHECK(call->error()->cls == "NoSuchMethod");
    auto cast = e.Deliver(Endpoint::Message(m, {}, false));
    CHECK(cast->WaitSettled(kWait) == Settled::kAck);
  }
  auto logs = e.Deliver(Endpoint::Message("container_logs", {}, true));
  REQUIRE(logs->WaitSettled(kWait) == Settled::kFail);
  CHECK(logs->error()->cls == "ZunException");
  auto pause = e.Deliver(Endpoint::Message("container_pause", {}, false));
  CHECK(pause->WaitSettled(kWait) == Settled::kAck);
  CHECK(e.endpoint->Counts()["container_pause/unsupported"] == 1);
  CHECK(e.endpoint->Counts()["no_such_thing/no_such_method"] == 2);
}

TEST_CASE("versions: 1.0 is served, a newer minor or a namespace is not") {
  Endpoint e;
  capsule::Capsule c = e.Stored();
  auto ok = Endpoint::Message("container_show",
                              {{"container", Endpoint::Primitive(c)}}, true);
  ok.version = "1.0";
  CHECK(e.Deliver(ok)->WaitSettled(kWait) == Settled::kReply);
  for (const char* v : {"1.1", "2.0", "x"}) {
    auto newer = ok;
    newer.version = v;
    auto d = e.Deliver(newer);
    REQUIRE(d->WaitSettled(kWait) == Settled::kFail);
    CHECK(d->error()->cls == "UnsupportedVersion");
  }
  auto ns = ok;
  ns.ns = "baremetal";
  auto d = e.Deliver(ns);
  REQUIRE(d->WaitSettled(kWait) == Settled::kFail);
  CHECK(d->error()->cls == "UnsupportedVersion");
  CHECK(VersionCompatible("1.0", "1"));
  CHECK_FALSE(VersionCompatible("1.0", "1.2"));
  CHECK(VersionCompatible("1.3", "1.2"));
}

TEST_CASE("shutting down: requests are left for the broker to requeue") {
  Endpoint e;
  capsule::Capsule c = e.Stored();
  e.endpoint->BeginShutdown();
  auto d = e.Deliver(Endpoint::Message(
      "container_create", {{"container", Endpoint::Primitive(c)}}, false));
  CHECK(d->how() == Settled::kRequeued);
  CHECK_FALSE(d->acked());
  CHECK(e.store.Get(c.uuid())->record.status == "Creating");
  CHECK(e.endpoint->Counts()["container_create/requeued"] == 1);
}

}  // namespace
}  // namespace zun::agent
