// The CRI conformance suite against a real containerd started by our
// scripts (fixture `containerd`), with locally built images and a local
// registry.
#include <catch2/catch.hpp>

#include "common/clock.h"
#include "cri/grpc_cri_client.h"
#include "tests/support/cri_conformance.h"
#include "tests/support/e2e_env.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

TEST_CASE("CRI conformance on containerd") {
  const E2eEnv& env = E2eEnv::Get();
  cri::GrpcCriOptions o;
  o.runtime_endpoint = env.cri_endpoint;
  o.request_timeout = absl::Seconds(30);
  auto client = cri::GrpcCriClient::Create(o, RealClock::Default());
  REQUIRE(client.ok());
  REQUIRE((*client)->Handshake().ok());
  ScopedTempDir logs("ze");
  CriTarget t;
  t.cri = client->get();
  t.pull_image = env.registry + "/busybox:pulled";
  t.pull_image_other_tag = env.registry + "/busybox:pulled-too";
  t.missing_pull_image = env.registry + "/notfound:1";
  t.log_root = logs.path();
  t.cgroup_root = env.cgroup_root;
  RunCriConformance(t);
}

}  // namespace
}  // namespace zun::testing
