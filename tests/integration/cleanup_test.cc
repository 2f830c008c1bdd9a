// What a capsule leaves on the node's file system: a failed create's
// rollback and an orphan's removal leave no pod log directory and no local
// volume directory; local volume directories are created 0750.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "absl/strings/match.h"
#include "capsule/mapper.h"
#include "tests/support/agent_harness.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

namespace fs = std::filesystem;

// Entries of `dir` whose name mentions `uuid`.
int EntriesFor(const std::string& dir, const std::string& uuid) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (absl::StrContains(e.path().filename().string(), uuid)) ++n;
  }
  return n;
}

TEST_CASE("a failed create leaves no pod log directory and no volume") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::ContainerRecord bad = AgentHarness::Child("bad", {"sleep", "60"});
  bad.image = "registry.example/absent:1";
  bad.image_pull_policy = "never";
  capsule::Capsule c;
  c.containers = {AgentHarness::Child("ok", {"sleep", "3600"}), bad};
  c = h.CreateCapsule(c);
  absl::StatusOr<std::string> vol =
      h.api().AddLocalVolume(c.containers[0].uuid, "/data", false, "project");
  REQUIRE(vol.ok());
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Error"; }));
  // The sandbox (and so the log directory) existed before the pull failed.
  CHECK(EntriesFor(h.dir() + "/logs", c.uuid()) == 0);
  CHECK_FALSE(fs::exists(h.dir() + "/volumes/" + *vol));
  CHECK(h.cri().ListPodSandbox({})->empty());
}

TEST_CASE("local volume directories are created 0750") {
  AgentHarness h;
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  absl::StatusOr<std::string> vol =
      h.api().AddLocalVolume(c.containers[0].uuid, "/data", false, "project");
  REQUIRE(vol.ok());
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  struct stat st {};
  REQUIRE(stat((h.dir() + "/volumes/" + *vol).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0750);
}

TEST_CASE("an orphan's removal takes its pod log directory") {
  HarnessOptions o;
  o.extra_config = "[compute]\norphan_grace_period = 1\n";
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  // A sandbox of ours whose capsule row is gone, with its log directory.
  cri::PodSandboxConfig orphan;
  orphan.name = "orphan";
  orphan.uid = "3b0e7c8e-0000-4000-8000-00000000beef";
  orphan.namespace_ = "default";
  orphan.labels = capsule::SandboxOwnerLabels(h.host(), orphan.uid);
  const std::string logs =
      h.dir() + "/logs/default_orphan_" + orphan.uid + "/c/0.log";
  fs::create_directories(fs::path(logs).parent_path());
  REQUIRE(EntriesFor(h.dir() + "/logs", orphan.uid) == 1);
  auto id = h.cri().RunPodSandbox(orphan, "");
  REQUIRE(id.ok());
  REQUIRE(PollUntil([&] {
    return h.cri().PodSandboxStatus(*id).status().code() ==
               absl::StatusCode::kNotFound &&
           EntriesFor(h.dir() + "/logs", orphan.uid) == 0;
  }));
}

}  // namespace
}  // namespace zun::testing
