// `make run` as an operator uses it: scripts/run.sh brings up RabbitMQ,
// PostgreSQL, Keystone, Placement, containerd (CNI, images, registry) and
// the agent; a capsule from a sample is scheduled through Placement, runs
// and serves on its pod IP; Ctrl-C (SIGINT) takes everything down again. Own
// ports, directories, bridge and subnet, so it does not meet the other tests'
// servers.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "tests/support/capsule_cli.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Processes whose command line mentions `needle`.
int ProcessesMentioning(const std::string& needle) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
      continue;
    }
    std::string cmdline = Slurp(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (absl::StrContains(cmdline, needle)) ++n;
  }
  return n;
}

TEST_CASE(
    "make run: the whole node comes up, runs a capsule, and Ctrl-C "
    "cleans up everything") {
  ScopedTempDir dir("mr");
  const std::string cri_dir = "/tmp/zun-mr-ctd";
  const int metrics_port = FreeTcpPort();
  const std::string ip_forward_before = Slurp("/proc/sys/net/ipv4/ip_forward");
  const std::map<std::string, std::string> env = {
      {"ZUN_RUN_DIR", dir.path() + "/run"},
      {"ZUN_RUN_RMQ_PORT", "5713"},
      {"ZUN_RUN_PG_PORT", "5447"},
      {"ZUN_RUN_METRICS", "127.0.0.1:" + std::to_string(metrics_port)},
      {"ZUN_RUN_CRI_DIR", cri_dir},
      {"ZUN_RUN_CNI_BRIDGE", "zunmr0"},
      {"ZUN_RUN_CNI_SUBNET", "10.233.81.0/24"},
      {"ZUN_RUN_REGISTRY", "127.0.0.1:5003"},
      {"ZUN_RUN_CGROUP_ROOT", "zun-mr"},
      {"ZUN_RUN_KEYSTONE_PORT", "41520"},
      {"ZUN_RUN_PLACEMENT_PORT", "41798"},
      {"ZUN_RUN_HOST", "make-run-node"}};
  auto run = Subprocess::Start({SourceDir() + "/scripts/run.sh", "containerd"},
                               dir.path() + "/run.log", env);
  REQUIRE(run.ok());
  const std::string conf = dir.path() + "/run/zun-agent.conf";
  const bool up = PollUntil(
      [&] {
        auto r = HttpRequest(metrics_port, "GET", "/healthz");
        return r.ok() && r->status == 200;
      },
      absl::Seconds(300), absl::Milliseconds(500));
  if (!up)
    FAIL("the stack did not come up:\n" + ReadFile(dir.path() + "/run.log"));
  CommandResult created =
      ZunCapsule(conf, {"create", "-f", SampleTemplate("web.yaml"), "--json"});
  INFO(created.output);
  REQUIRE(created.exit_code == 0);
  const std::string uuid = JsonOf(created.output)["uuid"];
  // Zun's way: the node's Placement provider was chosen and claimed.
  CHECK_THAT(created.output,
             Catch::Contains("scheduled to host 'make-run-node' by Placement"));
  CommandResult waited = ZunCapsule(
      conf, {"wait", uuid, "--status", "Running", "--timeout", "120", "--json"},
      absl::Seconds(150));
  if (waited.exit_code != 0) {
    FAIL(waited.output + "\n" + ReadFile(dir.path() + "/run.log"));
  }
  nlohmann::json c = JsonOf(waited.output);
  const std::string ip = c["addresses"].begin().value()[0]["addr"];
  CHECK(absl::StartsWith(ip, "10.233.81."));
  absl::StatusOr<HttpResponse> page;
  REQUIRE(PollUntil([&] {
    page = HttpRequestTo(ip, 8080, "GET", "/index.html");
    return page.ok() && page->status == 200;
  }));
  CHECK(absl::StrContains(page->body, "hello from zun"));
  CHECK(ProcessesMentioning(cri_dir) > 0);

  // Ctrl-C: the capsule is running; everything goes.
  REQUIRE((*run)->Signal(SIGINT).ok());
  absl::StatusOr<int> rc = (*run)->Wait(absl::Seconds(240));
  REQUIRE(rc.ok());
  const std::string log = ReadFile(dir.path() + "/run.log");
  INFO(log);
  CHECK(ProcessesMentioning(cri_dir) == 0);     // containerd, shims, registry
  CHECK(ProcessesMentioning("-p 5447 ") == 0);  // PostgreSQL
  CHECK(ProcessesMentioning("zun-run-rmq-5713") == 0);             // RabbitMQ
  CHECK(ProcessesMentioning(conf) == 0);                           // the agent
  CHECK(ProcessesMentioning(dir.path() + "/run/keystone") == 0);   // uwsgi
  CHECK(ProcessesMentioning(dir.path() + "/run/placement") == 0);  // uwsgi
  CHECK_FALSE(fs::exists("/sys/class/net/zunmr0"));
  CHECK_FALSE(fs::exists(cri_dir));
  CHECK_FALSE(absl::StrContains(Slurp("/proc/self/mountinfo"), cri_dir));
  std::error_code ec;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    CHECK_FALSE(fs::exists(h.path() / "zun-mr"));
  }
  CHECK(Slurp("/proc/sys/net/ipv4/ip_forward") == ip_forward_before);
}

}  // namespace
}  // namespace zun::testing
