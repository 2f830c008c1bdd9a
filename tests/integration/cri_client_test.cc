// The CRI client against the fake runtime served in-process over a unix
// socket: the conformance suite, then deadlines, retries, reconnects, the
// reserved-name quirk and the version handshake, with faults injected
// through fake-cri's control service.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "common/clock.h"
#include "cri/fake_control_client.h"
#include "cri/fake_cri_server.h"
#include "cri/fake_runtime.h"
#include "cri/fault_injector.h"
#include "cri/grpc_cri_client.h"
#include "tests/support/cri_conformance.h"
#include "tests/support/poll.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

struct FakeServer {
  explicit FakeServer(cri::fake::FakeRuntimeOptions o = {})
      : dir("zc"),
        endpoint("unix://" + dir.path() + "/cri.sock"),
        runtime(RealClock::Default(), o),
        faults(RealClock::Default(), 7),
        server(runtime, faults),
        control(endpoint) {
    REQUIRE(server.Start(endpoint).ok());
  }
  std::unique_ptr<cri::GrpcCriClient> Client(
      absl::Duration timeout = absl::Seconds(5)) {
    cri::GrpcCriOptions o;
    o.runtime_endpoint = endpoint;
    o.request_timeout = timeout;
    o.sandbox_create_timeout = timeout;
    o.retry_backoff =
        BackoffPolicy{absl::Milliseconds(20), absl::Milliseconds(100)};
    o.max_reconnect_backoff = absl::Milliseconds(200);
    auto c = cri::GrpcCriClient::Create(o, RealClock::Default());
    REQUIRE(c.ok());
    return *std::move(c);
  }
  int64_t Calls(const std::string& method) {
    auto s = control.Stats();
    REQUIRE(s.ok());
    return s->calls[method];
  }
  ScopedTempDir dir;
  std::string endpoint;
  cri::fake::FakeRuntime runtime;
  cri::fake::FaultInjector faults;
  cri::fake::FakeCriServer server;
  cri::fake::FakeCriControlClient control;
};

cri::PodSandboxConfig Pod(const std::string& name) {
  cri::PodSandboxConfig p;
  p.name = name;
  p.uid = name + "-uid";
  p.namespace_ = "t";
  p.labels = {{"owner", name}};
  return p;
}

TEST_CASE("CRI conformance on the fake runtime") {
  cri::fake::FakeRuntimeOptions o;
  o.preloaded_images = {"localhost/pause:3.6", "localhost/busybox:latest"};
  FakeServer f(o);
  auto client = f.Client();
  ScopedTempDir logs("zl");
  CriTarget t;
  t.cri = client.get();
  t.pull_image = "127.0.0.1:5000/busybox:pulled";
  t.pull_image_other_tag = "127.0.0.1:5000/busybox:pulled-too";
  t.missing_pull_image = "registry.example/notfound:1";
  t.log_root = logs.path();
  RunCriConformance(t);
}

TEST_CASE("every call has a deadline") {
  FakeServer f;
  auto client = f.Client(absl::Milliseconds(300));
  REQUIRE(f.control.SetFaults({{"ListPodSandbox", "hang"}}).ok());
  const absl::Time start = absl::Now();
  auto r = client->ListPodSandbox({});
  CHECK(r.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start < absl::Seconds(5));
}

TEST_CASE("a call a fault holds does not hold the runtime's other calls") {
  FakeServer f;
  auto held_client = f.Client(absl::Seconds(3));
  auto client = f.Client();
  REQUIRE(f.control.SetFaults({{"ListPodSandbox", "hang"}}).ok());
  std::atomic<bool> returned{false};
  std::thread held([&] {
    CHECK(held_client->ListPodSandbox({}).status().code() ==
          absl::StatusCode::kDeadlineExceeded);
    returned = true;
  });
  // Once the held call is in the runtime, calls of every other kind are
  // answered while it waits for its deadline.
  REQUIRE(PollUntil([&] { return f.Calls("ListPodSandbox") == 1; },
                    absl::Seconds(10)));
  for (int i = 0; i < 20; ++i) {
    auto id = client->RunPodSandbox(Pod("beside-" + std::to_string(i)), "");
    REQUIRE(id.ok());
    REQUIRE(client->PodSandboxStatus(*id).ok());
  }
  CHECK_FALSE(returned.load());
  held.join();
  CHECK(f.runtime.NumSandboxes() == 20);
}

TEST_CASE("UNAVAILABLE is retried for idempotent calls only") {
  FakeServer f;
  auto client = f.Client();
  REQUIRE(f.control
              .SetFaults({{"ListPodSandbox", "error:1,code:14"},
                          {"RunPodSandbox", "error:1,code:14"}})
              .ok());
  CHECK(client->ListPodSandbox({}).status().code() ==
        absl::StatusCode::kUnavailable);
  CHECK(f.Calls("ListPodSandbox") == 4);  // GrpcCriOptions::max_attempts
  CHECK(client->RunPodSandbox(Pod("p"), "").status().code() ==
        absl::StatusCode::kUnavailable);
  CHECK(f.Calls("RunPodSandbox") == 1);
  // Other codes are not retried either.
  REQUIRE(f.control.SetFaults({{"ContainerStatus", "error:1,code:13"}}).ok());
  CHECK(client->ContainerStatus("x").status().code() ==
        absl::StatusCode::kInternal);
  CHECK(f.Calls("ContainerStatus") == 1);
}

TEST_CASE("the client reconnects after a runtime restart, state kept or lost") {
  FakeServer f;
  auto client = f.Client(absl::Seconds(2));
  auto kept = client->RunPodSandbox(Pod("kept"), "");
  REQUIRE(kept.ok());
  // Down long enough for a slow machine's poll to see it down.
  REQUIRE(f.control.Restart(/*keep_state=*/true, absl::Seconds(4)).ok());
  // While the socket is gone calls fail; the same client works again after.
  REQUIRE(
      PollUntil([&] { return !client->Version().ok(); }, absl::Seconds(10)));
  REQUIRE(PollUntil([&] { return client->Version().ok(); }, absl::Seconds(20)));
  CHECK(client->PodSandboxStatus(*kept).ok());

  REQUIRE(
      f.control.Restart(/*keep_state=*/false, absl::Milliseconds(500)).ok());
  REQUIRE(PollUntil(
      [&] {
        auto s = f.control.Stats();
        return s.ok() && s->restarts == 2;
      },
      absl::Seconds(10)));
  REQUIRE(PollUntil([&] { return client->Version().ok(); }, absl::Seconds(10)));
  CHECK(client->PodSandboxStatus(*kept).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("a timed-out RunPodSandbox is adopted, never looped on") {
  FakeServer f;
  auto client = f.Client(absl::Milliseconds(400));
  // Still creating well after the client gave up (a slow machine's second
  // call must come before the runtime finishes).
  REQUIRE(f.control.SetFaults({{"RunPodSandbox", "latency:5s"}}).ok());
  cri::PodSandboxConfig p = Pod("slow");
  CHECK(client->RunPodSandbox(p, "").status().code() ==
        absl::StatusCode::kDeadlineExceeded);
  // The runtime is still creating it: the name is reserved, nothing listed.
  auto during = client->RunPodSandbox(p, "");
  CHECK(during.status().code() == absl::StatusCode::kUnavailable);
  REQUIRE(f.control.ClearFaults().ok());
  // Once created, a retry adopts it.
  absl::StatusOr<std::string> adopted;
  REQUIRE(PollUntil(
      [&] {
        adopted = client->RunPodSandbox(p, "");
        return adopted.ok();
      },
      absl::Seconds(30), absl::Milliseconds(200)));
  CHECK(f.runtime.NumSandboxes() == 1);
  auto status = client->PodSandboxStatus(*adopted);
  REQUIRE(status.ok());
  CHECK(status->sandbox.name == "slow");
}

TEST_CASE("a NOTREADY sandbox holding the name is removed, caller retries") {
  FakeServer f;
  auto client = f.Client();
  cri::PodSandboxConfig p = Pod("stale");
  auto first = client->RunPodSandbox(p, "");
  REQUIRE(first.ok());
  REQUIRE(client->StopPodSandbox(*first).ok());
  auto again = client->RunPodSandbox(p, "");
  CHECK(again.status().code() == absl::StatusCode::kAborted);
  CHECK(f.runtime.NumSandboxes() == 0);
  p.attempt = 1;
  CHECK(client->RunPodSandbox(p, "").ok());
}

TEST_CASE("the handshake refuses a runtime that does not serve runtime.v1") {
  cri::fake::FakeRuntimeOptions o;
  o.runtime_api_version = "v1alpha2";
  FakeServer f(o);
  auto client = f.Client();
  auto h = client->Handshake();
  REQUIRE(h.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(h.status().message()), Catch::Contains("runtime.v1"));
  FakeServer good;
  CHECK(good.Client()->Handshake().ok());
}

TEST_CASE("endpoints are validated") {
  CHECK(
      cri::ValidateCriEndpoint("unix:///run/containerd/containerd.sock").ok());
  CHECK_FALSE(cri::ValidateCriEndpoint("tcp://1.2.3.4:5").ok());
  CHECK_FALSE(cri::ValidateCriEndpoint("unix://relative.sock").ok());
  CHECK_FALSE(cri::ValidateCriEndpoint("unix:///a/../b.sock").ok());
  CHECK_FALSE(
      cri::ValidateCriEndpoint("unix:///" + std::string(200, 'x')).ok());
  CHECK_FALSE(cri::ValidateCriEndpoint(std::string("unix:///a\nb")).ok());
}

}  // namespace
}  // namespace zun::testing
