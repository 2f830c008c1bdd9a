// The agent on a real containerd (fixture `e2e`): capsules from the sample
// templates created with zun-capsule through RabbitMQ and PostgreSQL, run by
// containerd with CNI networking and cgroups, checked from the outside
// (ExecSync, log files, cgroup files, HTTP to the pod IP, CNI IPAM state,
// /proc), and deleted without leftovers.
#include <dirent.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "capsule/labels.h"
#include "tests/support/agent_harness.h"
#include "tests/support/capsule_cli.h"
#include "tests/support/e2e_env.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

namespace fs = std::filesystem;

HarnessOptions OnContainerd() {
  const E2eEnv& env = E2eEnv::Get();
  HarnessOptions o;
  o.cri_endpoint = env.cri_endpoint;
  o.cgroup_root = env.cgroup_root;
  o.cri_request_timeout_s = 60;
  return o;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The files below `dir` whose path contains `part`.
std::vector<std::string> FilesMatching(const std::string& dir,
                                       const std::string& part) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && absl::StrContains(it->path().string(), part)) {
      out.push_back(it->path().string());
    }
  }
  return out;
}

// A sample template with the registry address of this run.
std::string Sample(AgentHarness& h, const std::string& name) {
  std::string text = Slurp(SampleTemplate(name));
  text = absl::StrReplaceAll(
      text, {{"127.0.0.1:5000/", E2eEnv::Get().registry + "/"}});
  const std::string path = h.dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string CreateAndWait(AgentHarness& h, const std::string& template_path) {
  CommandResult created =
      ZunCapsule(h.config_path(), {"create", "-f", template_path, "--json"});
  INFO(created.output);
  REQUIRE(created.exit_code == 0);
  const std::string uuid = JsonOf(created.output)["uuid"];
  CommandResult waited =
      ZunCapsule(h.config_path(),
                 {"wait", uuid, "--status", "Running", "--timeout", "180"},
                 absl::Seconds(200));
  INFO(waited.output);
  INFO(ReadFile(h.dir() + "/zun-agent.log"));
  REQUIRE(waited.exit_code == 0);
  return uuid;
}

nlohmann::json Show(AgentHarness& h, const std::string& uuid) {
  CommandResult r = ZunCapsule(h.config_path(), {"show", uuid, "--json"});
  REQUIRE(r.exit_code == 0);
  return JsonOf(r.output);
}

const nlohmann::json* ChildNamed(const nlohmann::json& capsule,
                                 const std::string& suffix) {
  for (const char* list : {"init_containers", "containers"}) {
    for (const auto& c : capsule[list]) {
      if (absl::EndsWith(c["name"].get<std::string>(), suffix)) return &c;
    }
  }
  return nullptr;
}

std::string ExecOut(AgentHarness& h, const std::string& container_id,
                    const std::vector<std::string>& cmd) {
  absl::StatusOr<cri::ExecResult> r =
      h.cri().ExecSync(container_id, cmd, absl::Seconds(30));
  REQUIRE(r.ok());
  INFO(r->stderr_data);
  REQUIRE(r->exit_code == 0);
  return std::string(absl::StripTrailingAsciiWhitespace(r->stdout_data));
}

// Every trace of a capsule the node could keep: sandboxes, containers,
// shims, pod cgroups, CNI IP allocations.
struct Traces {
  int sandboxes = 0;
  int containers = 0;
  int shims = 0;
  int cgroups = 0;
  int ip_allocations = 0;
};

Traces TracesOf(AgentHarness& h, const std::string& uuid,
                const std::vector<std::string>& sandbox_ids) {
  Traces t;
  cri::SandboxFilter sf;
  sf.labels = {{std::string(capsule::kLabelCapsuleUuid), uuid}};
  auto sbs = h.cri().ListPodSandbox(sf);
  REQUIRE(sbs.ok());
  t.sandboxes = static_cast<int>(sbs->size());
  cri::ContainerFilter cf;
  cf.labels = {{std::string(capsule::kLabelCapsuleUuid), uuid}};
  auto ctrs = h.cri().ListContainers(cf);
  REQUIRE(ctrs.ok());
  t.containers = static_cast<int>(ctrs->size());
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string cmdline = Slurp(entry.path().string() + "/cmdline");
    if (!absl::StrContains(cmdline, "containerd-shim")) continue;
    for (const std::string& id : sandbox_ids) {
      if (absl::StrContains(cmdline, id)) ++t.shims;
    }
  }
  std::error_code ec;
  for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    const std::string pod =
        hierarchy.path().string() + E2eEnv::Get().cgroup_root + "/pod" + uuid;
    if (fs::exists(pod)) ++t.cgroups;
  }
  if (fs::exists("/sys/fs/cgroup" + E2eEnv::Get().cgroup_root + "/pod" +
                 uuid)) {
    ++t.cgroups;  // cgroup v2: one unified hierarchy
  }
  for (const std::string& f :
       FilesMatching(E2eEnv::Get().cri_dir + "/cni/ipam", "")) {
    const std::string content = Slurp(f);
    for (const std::string& id : sandbox_ids) {
      if (absl::StrContains(content, id)) ++t.ip_allocations;
    }
  }
  return t;
}

TEST_CASE(
    "web sample on containerd: init first, env/args/workDir, memory "
    "limit, pod IP, served over the pod network, delete leaves nothing") {
  AgentHarness h(OnContainerd());
  REQUIRE(h.WaitServing(absl::Seconds(120)));
  const std::string uuid = CreateAndWait(h, Sample(h, "web.yaml"));
  nlohmann::json c = Show(h, uuid);
  INFO(c.dump(2));
  const nlohmann::json* init = ChildNamed(c, "-prepare");
  const nlohmann::json* httpd = ChildNamed(c, "-httpd");
  const nlohmann::json* sidecar = ChildNamed(c, "-sidecar");
  REQUIRE(init != nullptr);
  REQUIRE(httpd != nullptr);
  REQUIRE(sidecar != nullptr);
  CHECK((*init)["status"] == "Stopped");
  CHECK((*httpd)["status"] == "Running");
  CHECK((*sidecar)["status"] == "Running");

  // The init container ran first: it finished before either container
  // started, and its output is in its log file.
  auto init_st =
      h.cri().ContainerStatus((*init)["container_id"].get<std::string>());
  auto httpd_st =
      h.cri().ContainerStatus((*httpd)["container_id"].get<std::string>());
  auto side_st =
      h.cri().ContainerStatus((*sidecar)["container_id"].get<std::string>());
  REQUIRE(init_st.ok());
  REQUIRE(httpd_st.ok());
  REQUIRE(side_st.ok());
  CHECK(init_st->exit_code == 0);
  CHECK(init_st->finished_at <= httpd_st->started_at);
  CHECK(init_st->finished_at <= side_st->started_at);
  const std::vector<std::string> init_logs =
      FilesMatching(h.dir() + "/logs", "prepare");
  REQUIRE(init_logs.size() == 1);
  CHECK(absl::StrContains(Slurp(init_logs[0]), "init-ran"));

  // env, args and workDir as requested, seen from inside and in the log.
  const std::string side_id = (*sidecar)["container_id"];
  CHECK(ExecOut(h, side_id, {"sh", "-c", "echo $GREETING $MODE; pwd"}) ==
        "hello sidecar\n/tmp");
  REQUIRE(PollUntil([&] {
    const auto logs = FilesMatching(h.dir() + "/logs", "sidecar");
    return logs.size() == 1 &&
           absl::StrContains(Slurp(logs[0]), "sidecar hello in /tmp");
  }));

  // The memory request is the container's cgroup limit (32 MiB).
  CHECK(ExecOut(h, side_id,
                {"sh", "-c",
                 "cat /sys/fs/cgroup/memory.max 2>/dev/null || "
                 "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"}) ==
        "33554432");

  // The pod IP from CNI is in addresses, and the page httpd wrote is
  // served on it.
  const std::string ip = c["addresses"].begin().value()[0]["addr"];
  auto sb = h.cri().PodSandboxStatus(c["container_id"].get<std::string>());
  REQUIRE(sb.ok());
  CHECK(sb->ip == ip);
  absl::StatusOr<HttpResponse> page;
  REQUIRE(PollUntil([&] {
    page = HttpRequestTo(ip, 8080, "GET", "/index.html");
    return page.ok() && page->status == 200;
  }));
  CHECK(absl::StrContains(page->body, "hello from zun"));

  // Delete: nothing of the capsule remains on the node.
  const std::vector<std::string> sandbox_ids = {c["container_id"]};
  Traces before = TracesOf(h, uuid, sandbox_ids);
  CHECK(before.sandboxes == 1);
  CHECK(before.containers == 3);
  CHECK(before.shims >= 1);
  CHECK(before.cgroups >= 1);
  CHECK(before.ip_allocations == 1);
  REQUIRE(ZunCapsule(h.config_path(), {"delete", uuid}).exit_code == 0);
  REQUIRE(ZunCapsule(h.config_path(),
                     {"wait", uuid, "--status", "Deleted", "--timeout", "120"},
                     absl::Seconds(150))
              .exit_code == 0);
  Traces after;
  REQUIRE(PollUntil([&] {
    after = TracesOf(h, uuid, sandbox_ids);
    return after.shims == 0;
  }));
  CHECK(after.sandboxes == 0);
  CHECK(after.containers == 0);
  CHECK(after.cgroups == 0);
  CHECK(after.ip_allocations == 0);
  // Its log directory and its local volume went with it.
  CHECK(FilesMatching(h.dir() + "/logs", uuid).empty());
  CHECK(FilesMatching(h.dir() + "/volumes", "").empty());
  CHECK(std::stoi(*h.db().Query("SELECT count(*) AS n FROM volume")[0]["n"]) ==
        0);
}

TEST_CASE(
    "a container exiting non-zero is restarted per policy, restarts "
    "and exit code in the DB") {
  AgentHarness h(OnContainerd());
  REQUIRE(h.WaitServing(absl::Seconds(120)));
  const std::string path = h.dir() + "/crash.yaml";
  std::ofstream(path) << R"(kind: capsule
metadata: {name: crashy}
spec:
  restartPolicy: OnFailure
  containers:
    - name: ok
      image: localhost/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "3600"]
    - name: crash
      image: localhost/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "sleep 1; exit 3"]
)";
  const std::string uuid = CreateAndWait(h, path);
  // Restarted with backoff: the row counts restarts and names the exit.
  std::optional<SqlRow> row;
  REQUIRE(PollUntil(
      [&] {
        for (auto& r : h.ChildRows(uuid)) {
          if (absl::EndsWith(r["name"].value_or(""), "-crash") &&
              absl::StrContains(r["status_detail"].value_or(""),
                                "restarts: 2")) {
            row = r;
            return true;
          }
        }
        return false;
      },
      absl::Seconds(120), absl::Milliseconds(250)));
  // The exit code of the attempts it replaced is kept with the count.
  CHECK(absl::StrContains((*row)["status_detail"].value_or(""), "last exit 3"));
  // The runtime really ran new attempts of it.
  cri::ContainerFilter cf;
  cf.labels = {{std::string(capsule::kLabelCapsuleUuid), uuid}};
  auto ctrs = h.cri().ListContainers(cf);
  REQUIRE(ctrs.ok());
  uint32_t max_attempt = 0;
  for (const auto& ci : *ctrs) max_attempt = std::max(max_attempt, ci.attempt);
  CHECK(max_attempt >= 2);
  CHECK(h.StatusOf(uuid) != "Error");
  REQUIRE(ZunCapsule(h.config_path(), {"delete", uuid}).exit_code == 0);
  REQUIRE(ZunCapsule(h.config_path(),
                     {"wait", uuid, "--status", "Deleted", "--timeout", "120"},
                     absl::Seconds(150))
              .exit_code == 0);
}

TEST_CASE("zun-capsule round trip over every sample on containerd") {
  AgentHarness h(OnContainerd());
  REQUIRE(h.WaitServing(absl::Seconds(120)));
  for (const char* sample :
       {"web.yaml", "pull.yaml", "minimal.json", "virtual-kubelet.json"}) {
    CAPTURE(sample);
    const std::string uuid = CreateAndWait(h, Sample(h, sample));
    nlohmann::json c = Show(h, uuid);
    CHECK(c["status"] == "Running");
    CHECK(c["host"] == h.host());
    CHECK_FALSE(c["addresses"].empty());
    CommandResult listed = ZunCapsule(h.config_path(), {"list"});
    CHECK(absl::StrContains(listed.output, uuid));
    REQUIRE(ZunCapsule(h.config_path(), {"delete", uuid}).exit_code == 0);
    REQUIRE(
        ZunCapsule(h.config_path(),
                   {"wait", uuid, "--status", "Deleted", "--timeout", "120"},
                   absl::Seconds(150))
            .exit_code == 0);
  }
  cri::SandboxFilter sf;
  sf.labels = {{std::string(capsule::kLabelHost), h.host()}};
  auto sbs = h.cri().ListPodSandbox(sf);
  REQUIRE(sbs.ok());
  CHECK(sbs->empty());
}

}  // namespace
}  // namespace zun::testing
