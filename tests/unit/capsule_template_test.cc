// zun-capsule's template parser: the rows the Zun API would write, and
// clear errors for bad templates.
#include "tools/capsule_template.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"

namespace zun::tools {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(ZUN_SOURCE_DIR) + "/etc/capsules/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TemplateOptions Opts() {
  TemplateOptions o;
  o.project_id = "p1";
  o.user_id = "u1";
  return o;
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<CapsuleRequest> r = CapsuleFromTemplate(text, Opts());
  return r.ok() ? "" : std::string(r.status().message());
}

TEST_CASE("the web sample becomes the API's rows") {
  absl::StatusOr<CapsuleRequest> r =
      CapsuleFromTemplate(ReadSample("web.yaml"), Opts());
  REQUIRE(r.ok());
  const capsule::Capsule& c = r->capsule;
  CHECK(c.record.name == "web");
  CHECK(c.record.status == "Creating");
  CHECK(c.record.project_id == "p1");
  CHECK(c.record.image == "kubernetes/pause");
  CHECK(c.record.labels.at("app") == "web");
  CHECK(c.record.annotations["owner"] == "ops@example.com");
  CHECK(c.record.restart_policy ==
        capsule::StringMap{{"MaximumRetryCount", "0"}, {"Name", "always"}});
  // cpu: 0.25 + 0.1; memory: 64 + 32 MiB (the init container asks nothing).
  REQUIRE(c.record.cpu);
  CHECK(*c.record.cpu == Approx(0.35));
  CHECK(c.record.memory == "96");
  REQUIRE(c.init_containers.size() == 1);
  REQUIRE(c.containers.size() == 2);
  const capsule::ContainerRecord& init = c.init_containers[0];
  CHECK(init.name == "capsule-web-prepare");
  CHECK(init.command ==
        std::vector<std::string>{"sh", "-c",
                                 "echo init-ran; echo '<h1>hello from "
                                 "zun</h1>' > /site/index.html"});
  // An "always" capsule's init containers run to completion.
  CHECK(init.restart_policy.at("Name") == "on-failure");
  const capsule::ContainerRecord& httpd = c.containers[0];
  CHECK(httpd.exposed_ports ==
        nlohmann::json{{"8080/tcp", nlohmann::json::object()}});
  CHECK(httpd.memory == "64");
  CHECK(*httpd.cpu == Approx(0.25));
  CHECK(httpd.image_pull_policy == "ifnotpresent");
  CHECK(httpd.restart_policy.at("Name") == "always");
  const capsule::ContainerRecord& side = c.containers[1];
  CHECK(side.workdir == "/tmp");
  CHECK(side.environment.at("GREETING") == "hello");
  CHECK(side.memory == "32");
  // One volume shared by the init container and httpd (read-only there).
  REQUIRE(r->volumes.size() == 1);
  REQUIRE(r->volumes[0].mounts.size() == 2);
  CHECK(r->volumes[0].mounts[0].container_uuid == init.uuid);
  CHECK_FALSE(r->volumes[0].mounts[0].read_only);
  CHECK(r->volumes[0].mounts[1].container_uuid == httpd.uuid);
  CHECK(r->volumes[0].mounts[1].read_only);
}

TEST_CASE("every sample template parses") {
  for (const char* name :
       {"web.yaml", "pull.yaml", "minimal.json", "virtual-kubelet.json"}) {
    CAPTURE(name);
    absl::StatusOr<CapsuleRequest> r =
        CapsuleFromTemplate(ReadSample(name), Opts());
    CHECK(r.ok());
  }
}

TEST_CASE("restart policies, defaults and the deprecated form") {
  auto policy = [](const std::string& text) {
    auto r = CapsuleFromTemplate(text, Opts());
    REQUIRE(r.ok());
    return r->capsule.record.restart_policy.at("Name");
  };
  const std::string spec = "spec: {containers: [{image: busybox}]";
  CHECK(policy("kind: capsule\n" + spec + "}") == "always");
  CHECK(policy("kind: Capsule\n" + spec + ", restartPolicy: OnFailure}") ==
        "on-failure");
  CHECK(policy("kind: capsule\n" + spec + ", restartPolicy: Never}") == "no");
  CHECK(policy("kind: capsule\nrestart_policy: on-failure\n" + spec + "}") ==
        "on-failure");
  auto r = CapsuleFromTemplate(
      "kind: capsule\nspec: {containers: [{image: busybox}]}", Opts());
  REQUIRE(r.ok());
  CHECK(r->capsule.record.memory == "0");
  CHECK_FALSE(r->capsule.record.cpu);
  // No name: children are named after the capsule uuid.
  CHECK(absl::StartsWith(*r->capsule.containers[0].name,
                         "capsule-" + r->capsule.uuid() + "-"));
  CHECK(r->capsule.containers[0].image_pull_policy == "always");
}

TEST_CASE("init containers raise the capsule's resources to their maximum") {
  auto r = CapsuleFromTemplate(R"({"kind": "capsule", "spec": {
      "initContainers": [{"image": "b", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}],
      "containers": [{"image": "b", "resources": {"requests": {"cpu": "500m", "memory": 100}}},
                     {"image": "b", "resources": {"requests": {"cpu": "0.5", "memory": 100}}}]}})",
                               Opts());
  REQUIRE(r.ok());
  CHECK(*r->capsule.record.cpu == Approx(2));
  CHECK(r->capsule.record.memory == "1024");
}

TEST_CASE("quantities") {
  CHECK(*ParseCpu("500m") == Approx(0.5));
  CHECK(*ParseCpu("2") == Approx(2));
  CHECK_FALSE(ParseCpu("-1").ok());
  CHECK_FALSE(ParseCpu("nan").ok());
  CHECK_FALSE(ParseCpu("inf").ok());
  CHECK_FALSE(ParseCpu("0").ok());
  CHECK_FALSE(ParseCpu("1e9").ok());
  CHECK_FALSE(ParseCpu("abc").ok());
  CHECK(*ParseMemoryMiB("512") == 512);
  CHECK(*ParseMemoryMiB("512Mi") == 512);
  CHECK(*ParseMemoryMiB("2Gi") == 2048);
  CHECK(*ParseMemoryMiB("100M") == 96);  // 100e6 bytes, rounded up
  CHECK(*ParseMemoryMiB("4096Ki") == 4);
  CHECK_FALSE(ParseMemoryMiB("1").ok());  // below 4 MiB
  CHECK_FALSE(ParseMemoryMiB("-5Mi").ok());
  CHECK_FALSE(ParseMemoryMiB("1Pi").ok());
  CHECK_FALSE(ParseMemoryMiB("99999999Gi").ok());
  CHECK_FALSE(ParseMemoryMiB("nanMi").ok());
}

TEST_CASE("bad templates fail naming the field") {
  CHECK(absl::StrContains(
      ErrorOf("kind: pod\nspec: {containers: [{image: b}]}"), "kind"));
  CHECK(absl::StrContains(ErrorOf("kind: capsule"), "spec"));
  CHECK(absl::StrContains(ErrorOf("kind: capsule\nspec: {containers: []}"),
                          "spec.containers"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {containers: [{image: b, imag: c}]}"),
      "spec.containers[0].imag: unknown field"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {containers: [{image: ''}]}"),
      "spec.containers[0].image"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {containers: [{name: a, image: b}, {name: "
              "a, image: b}]}"),
      "duplicate container name"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {containers: [{image: b, resources: "
              "{requests: {cpu: -1}}}]}"),
      "spec.containers[0].resources.requests.cpu"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {containers: [{image: b, env: {'A=B': "
              "x}}]}"),
      "bad variable name"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {containers: [{image: b, ports: "
              "[{containerPort: 70000}]}]}"),
      "containerPort"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {containers: [{image: b, volumeMounts: "
              "[{name: v, mountPath: /x}]}]}"),
      "unknown volume 'v'"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {volumes: [{name: v, cinder: {size: "
              "1}}], containers: [{image: b}]}"),
      "Cinder"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nspec: {restartPolicy: Sometimes, containers: "
              "[{image: b}]}"),
      "Sometimes"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nmetadata: {name: 'bad name!'}\nspec: "
              "{containers: [{image: b}]}"),
      "metadata.name"));
  CHECK(absl::StrContains(ErrorOf("{\"kind\": \"capsule\", "), "not valid"));
  CHECK(absl::StrContains(ErrorOf("- a\n- b\n"), "expected a mapping"));
  CHECK(absl::StrContains(ErrorOf(std::string(kMaxTemplateBytes + 1, ' ')),
                          "larger than"));
  CHECK(absl::StrContains(
      ErrorOf("kind: capsule\nkind: capsule\nspec: {containers: [{image: "
              "b}]}"),
      "duplicate key"));
  // Deep nesting is refused, not a crash.
  CHECK_FALSE(
      ErrorOf(std::string(100000, '[') + std::string(100000, ']')).empty());
}

}  // namespace
}  // namespace zun::tools
