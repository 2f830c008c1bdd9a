#include "capsule/mapper.h"

#include <catch2/catch.hpp>

#include "capsule/labels.h"

namespace zun::capsule {
namespace {

MapperOptions Opts() {
  MapperOptions o;
  o.host = "node-1";
  o.log_root = "/var/log/zun/pods";
  o.cgroup_root = "/zun";
  o.runtime_handlers = {{"runc", ""}, {"kata", "kata-qemu"}};
  o.host_path_allowlist = {"/var/lib/zun/mnt"};
  o.dns.servers = {"10.0.0.2"};
  o.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  return o;
}

Capsule Sample() {
  Capsule c;
  c.record.container_type = ContainerType::kCapsule;
  c.record.uuid = "0b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69";
  c.record.name = "Web_App";
  c.record.labels = {{"app", "web"}};
  c.record.annotations = {{"team", "blue"}};
  ContainerRecord k;
  k.container_type = ContainerType::kCapsuleContainer;
  k.uuid = "1b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69";
  k.name = "capsule-web-abc";
  k.image = "nginx:1.25";
  k.command = {"nginx", "-g", "daemon off;"};
  k.environment = {{"A", "1"}, {"B", "two"}};
  k.workdir = "/srv";
  k.cpu = 0.5;
  k.memory = "128";
  k.tty = true;
  k.interactive = true;
  k.exposed_ports = {{"80/tcp", nlohmann::json::object()},
                     {"53/udp", nlohmann::json::object()}};
  k.volumes = {{"/data", "/var/lib/zun/mnt/v1", true, "v1", "local"}};
  c.containers.push_back(k);
  return c;
}

TEST_CASE("sandbox config carries identity, networking, labels and linux") {
  absl::StatusOr<cri::PodSandboxConfig> sb =
      BuildSandboxConfig(Sample(), Opts(), 2);
  REQUIRE(sb.ok());
  CHECK(sb->name == "0b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69");
  CHECK(sb->uid == sb->name);
  CHECK(sb->namespace_ == "default");
  CHECK(sb->attempt == 2);
  CHECK(sb->hostname == "web-app");
  CHECK(
      sb->log_directory ==
      "/var/log/zun/pods/default_Web_App_0b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69");
  CHECK(sb->dns.servers == std::vector<std::string>{"10.0.0.2"});
  REQUIRE(sb->port_mappings.size() == 2);
  CHECK(sb->labels.at("app") == "web");
  CHECK(sb->labels.at(std::string(kLabelManagedBy)) == "zun-agent");
  CHECK(sb->labels.at(std::string(kLabelHost)) == "node-1");
  CHECK(sb->labels.at(std::string(kLabelCapsuleUuid)) == sb->uid);
  CHECK(sb->annotations.at("team") == "blue");
  CHECK(sb->cgroup_parent == "/zun/pod0b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69");
  CHECK(sb->sysctls.at("net.ipv4.ip_unprivileged_port_start") == "0");
  REQUIRE(sb->seccomp.has_value());
  CHECK(sb->seccomp->type == cri::SecurityProfile::Type::kRuntimeDefault);
  CHECK_FALSE(sb->privileged);
}

TEST_CASE("container config maps command, env, mounts, resources and labels") {
  Capsule c = Sample();
  absl::StatusOr<cri::ContainerConfig> cfg =
      BuildContainerConfig(c, c.containers[0], Opts(), "sha256:abc", 1);
  REQUIRE(cfg.ok());
  CHECK(cfg->name == "capsule-web-abc");
  CHECK(cfg->attempt == 1);
  CHECK(cfg->image == "sha256:abc");
  // Zun's command replaces the image ENTRYPOINT (Kubernetes `command`).
  CHECK(cfg->command == std::vector<std::string>{"nginx", "-g", "daemon off;"});
  CHECK(cfg->args.empty());
  CHECK(cfg->working_dir == "/srv");
  CHECK(cfg->envs == std::vector<std::pair<std::string, std::string>>{
                         {"A", "1"}, {"B", "two"}});
  REQUIRE(cfg->mounts.size() == 1);
  CHECK(cfg->mounts[0].readonly);
  CHECK(cfg->mounts[0].host_path == "/var/lib/zun/mnt/v1");
  CHECK(cfg->log_path == "capsule-web-abc/1.log");
  CHECK(cfg->tty);
  CHECK(cfg->stdin_open);
  CHECK(cfg->resources.cpu_shares == 512);
  CHECK(cfg->resources.cpu_period == 100000);
  CHECK(cfg->resources.cpu_quota == 50000);
  CHECK(cfg->resources.memory_limit_in_bytes == 128LL << 20);
  CHECK(cfg->labels.at(std::string(kLabelContainerUuid)) ==
        c.containers[0].uuid);
  CHECK(cfg->labels.at(std::string(kLabelContainerType)) == "container");
  CHECK(cfg->labels.at(std::string(kLabelCapsuleUuid)) == c.uuid());
}

TEST_CASE("an entrypoint becomes CRI command and Zun's command its args") {
  Capsule c = Sample();
  c.containers[0].entrypoint = {"/bin/sh", "-c"};
  c.containers[0].command = {"echo hi"};
  auto cfg = BuildContainerConfig(c, c.containers[0], Opts(), "", 0);
  REQUIRE(cfg.ok());
  CHECK(cfg->command == std::vector<std::string>{"/bin/sh", "-c"});
  CHECK(cfg->args == std::vector<std::string>{"echo hi"});
  CHECK(cfg->image == "nginx:1.25");  // no pulled reference: the image as given
}

TEST_CASE("runtime handlers come from capsule.runtime through the map") {
  Capsule c = Sample();
  CHECK(*RuntimeHandlerFor(c, Opts()) == "");
  c.record.runtime = "kata";
  CHECK(*RuntimeHandlerFor(c, Opts()) == "kata-qemu");
  c.record.runtime = "gvisor";
  CHECK(RuntimeHandlerFor(c, Opts()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// Each invalid capsule must be refused with a reason naming the problem.
TEST_CASE("invalid capsules are refused with an actionable reason") {
  struct Case {
    const char* what;
    std::function<void(Capsule&, MapperOptions&)> edit;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"empty image",
       [](Capsule& c, MapperOptions&) { c.containers[0].image = " "; },
       "image is empty"},
      {"negative memory",
       [](Capsule& c, MapperOptions&) { c.containers[0].memory = "-5"; },
       "memory '-5'"},
      {"non-numeric memory",
       [](Capsule& c, MapperOptions&) { c.containers[0].memory = "lots"; },
       "memory 'lots'"},
      {"huge memory",
       [](Capsule& c, MapperOptions&) {
         c.containers[0].memory = "99999999999";
       },
       "exceeds"},
      {"negative cpu",
       [](Capsule& c, MapperOptions&) { c.containers[0].cpu = -1; }, "cpu"},
      {"NaN cpu",
       [](Capsule& c, MapperOptions&) { c.containers[0].cpu = std::nan(""); },
       "cpu"},
      {"env name with =",
       [](Capsule& c, MapperOptions&) {
         c.containers[0].environment["A=B"] = "x";
       },
       "must not contain '='"},
      {"env name with NUL",
       [](Capsule& c, MapperOptions&) {
         c.containers[0].environment[std::string("A\0B", 3)] = "x";
       },
       "NUL"},
      {"host path outside the allow-list",
       [](Capsule& c, MapperOptions&) {
         c.containers[0].volumes[0].host_path = "/etc";
       },
       "outside the allowed host paths"},
      {"host path with ..",
       [](Capsule& c, MapperOptions&) {
         c.containers[0].volumes[0].host_path = "/var/lib/zun/mnt/../../../etc";
       },
       "clean absolute path"},
      {"privileged when not allowed",
       [](Capsule& c, MapperOptions&) { c.containers[0].privileged = true; },
       "privileged containers are not allowed"},
      {"unknown runtime",
       [](Capsule& c, MapperOptions&) { c.record.runtime = "nope"; },
       "runtime 'nope'"},
      {"duplicate names",
       [](Capsule& c, MapperOptions&) {
         c.containers.push_back(c.containers[0]);
       },
       "two containers are named"},
      {"no containers",
       [](Capsule& c, MapperOptions&) { c.containers.clear(); },
       "no containers"},
      {"bad pull policy",
       [](Capsule& c, MapperOptions&) {
         c.containers[0].image_pull_policy = "sometimes";
       },
       "image_pull_policy"},
      {"bad restart policy",
       [](Capsule& c, MapperOptions&) {
         c.record.restart_policy["Name"] = "forever";
       },
       "restart policy"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    Capsule c = Sample();
    MapperOptions o = Opts();
    k.edit(c, o);
    absl::Status s = ValidateCapsule(c, o);
    REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(s.message()), Catch::Contains(k.reason));
  }
  CHECK(ValidateCapsule(Sample(), Opts()).ok());
}

TEST_CASE("privileged containers are allowed when configured, unconfined") {
  Capsule c = Sample();
  c.containers[0].privileged = true;
  MapperOptions o = Opts();
  o.allow_privileged = true;
  REQUIRE(ValidateCapsule(c, o).ok());
  auto sb = BuildSandboxConfig(c, o, 0);
  REQUIRE(sb.ok());
  CHECK(sb->privileged);
  auto cfg = BuildContainerConfig(c, c.containers[0], o, "", 0);
  REQUIRE(cfg.ok());
  CHECK(cfg->privileged);
  CHECK(cfg->seccomp->type == cri::SecurityProfile::Type::kUnconfined);
}

}  // namespace
}  // namespace zun::capsule
