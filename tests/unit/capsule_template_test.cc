// zun-capsule's template parser: the rows the Zun API would write, and the
// API's own verdict (and words) on every template.
#include "tools/capsule_template.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "tools/py_value.h"
#include "tools/template_loader.h"

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

// A template whose one container has the fields `c` (a YAML flow mapping's
// content), and `more` appended under spec.
std::string One(const std::string& c, const std::string& more = "") {
  return "kind: capsule\nmetadata: {name: t1}\nspec:\n  containers:\n"
         "    - {" +
         c + "}\n" + more;
}

CapsuleRequest Parse(const std::string& text) {
  absl::StatusOr<CapsuleRequest> r = CapsuleFromTemplate(text, Opts());
  INFO(text);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *std::move(r);
}

TEST_CASE("the web sample becomes the API's rows", "[template]") {
  CapsuleRequest r = Parse(ReadSample("web.yaml"));
  const capsule::Capsule& c = r.capsule;
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
  CHECK(init.command == std::vector<std::string>{"sh", "-c", "echo init-ran"});
  // An "always" capsule's init containers run to completion.
  CHECK(init.restart_policy.at("Name") == "on-failure");
  const capsule::ContainerRecord& httpd = c.containers[0];
  CHECK(httpd.name == "capsule-web-httpd");
  REQUIRE(httpd.command.size() == 3);
  CHECK(httpd.command[0] == "sh");
  CHECK(absl::StrContains(httpd.command[2], "hello from zun"));
  CHECK(absl::StrContains(httpd.command[2], "exec httpd -f -p 8080 -h /www"));
  CHECK(httpd.exposed_ports ==
        nlohmann::json{{"8080/tcp", nlohmann::json::object()}});
  CHECK(httpd.memory == "64");
  CHECK(*httpd.cpu == Approx(0.25));
  CHECK(httpd.image_pull_policy == "ifnotpresent");
  CHECK(httpd.restart_policy.at("Name") == "always");
  CHECK(httpd.volumes.empty());
  const capsule::ContainerRecord& side = c.containers[1];
  CHECK(side.workdir == "/tmp");
  CHECK(side.environment ==
        capsule::StringMap{{"GREETING", "hello"}, {"MODE", "sidecar"}});
  CHECK(side.memory == "32");
  CHECK(side.command.back() ==
        "echo \"sidecar $GREETING in $(pwd)\"; exec "
        "sleep 3600");
}

TEST_CASE("every sample template parses", "[template]") {
  for (const char* name :
       {"web.yaml", "pull.yaml", "minimal.json", "virtual-kubelet.json"}) {
    CAPTURE(name);
    const std::string text = ReadSample(name);
    REQUIRE_FALSE(text.empty());
    absl::StatusOr<CapsuleRequest> r = CapsuleFromTemplate(text, Opts());
    CHECK(r.status().ToString() == "OK");
  }
  CapsuleRequest vk = Parse(ReadSample("virtual-kubelet.json"));
  CHECK(vk.capsule.record.labels.at("ClusterName").empty());
  CHECK(*vk.capsule.record.cpu == Approx(1));
  CHECK(vk.capsule.record.memory == "512");
  CapsuleRequest pull = Parse(ReadSample("pull.yaml"));
  CHECK(pull.capsule.record.memory == "128");
  CHECK(pull.capsule.containers[0].restart_policy.at("Name") == "on-failure");
}

TEST_CASE("restart policies and defaults", "[template]") {
  auto policy = [](const std::string& text) {
    return Parse(text).capsule.record.restart_policy.at("Name");
  };
  const std::string head = "kind: capsule\nmetadata: {}\n";
  const std::string spec = "spec: {containers: [{image: busybox}]";
  CHECK(policy(head + spec + "}") == "always");
  CHECK(policy(head + spec + ", restartPolicy: OnFailure}") == "on-failure");
  CHECK(policy(head + spec + ", restartPolicy: Never}") == "no");
  // The deprecated top-level restartPolicy passes the schema; the API
  // ignores it.
  CHECK(policy(head + "restartPolicy: Never\n" + spec + "}") == "always");
  CapsuleRequest r = Parse(head + spec + "}");
  CHECK(r.capsule.record.memory == "0");
  CHECK_FALSE(r.capsule.record.cpu);
  CHECK_FALSE(r.capsule.record.name);
  // No name: children are named after the capsule uuid.
  CHECK(r.capsule.containers[0].name == "capsule-" + r.capsule.uuid() + "-c0");
  CHECK(r.capsule.containers[0].image_pull_policy == "always");
  CHECK(r.capsule.containers[0].exposed_ports.is_null());
  CHECK_FALSE(r.capsule.containers[0].interactive);
  CHECK_FALSE(r.capsule.containers[0].tty);
}

TEST_CASE("init containers raise the capsule's resources to their maximum",
          "[template]") {
  CapsuleRequest r = Parse(R"({"kind": "capsule", "metadata": {}, "spec": {
      "initContainers": [{"image": "bb", "resources": {"requests": {"cpu": 2, "memory": 1024}}}],
      "containers": [{"image": "bb", "resources": {"requests": {"cpu": 0.5, "memory": 100}}},
                     {"image": "bb", "resources": {"requests": {"cpu": 0.5, "memory": 100}}}]}})");
  CHECK(*r.capsule.record.cpu == Approx(2));
  CHECK(r.capsule.record.memory == "1024");
  CHECK(r.capsule.init_containers[0].memory == "1024");
}

TEST_CASE("templates the Zun API accepts are accepted", "[template]") {
  // Extra keys in metadata and spec, null labels and annotations, a digit
  // string containerPort, string booleans, nulls where the schema allows.
  CapsuleRequest r = Parse(
      "kind: Capsule\ncapsuleVersion: Beta\navailabilityZone: az1\n"
      "metadata: {name: web2, labels: ~, annotations: ~, namespace: x}\n"
      "spec:\n  hostNetwork: true\n  volumes: ~\n  containers:\n"
      "    - {image: busybox, name: ~, tty: 'true', stdin: 'False',\n"
      "       ports: [{containerPort: '8080', hostPort: 80, name: web},\n"
      "               {containerPort: 53, protocol: UDP}],\n"
      "       env: ~, workDir: ~, command: [sleep, '1'],\n"
      "       resources: {requests: {cpu: ~, memory: ~}}}\n");
  CHECK(r.availability_zone == "az1");
  CHECK(r.capsule.record.labels.empty());
  CHECK(r.capsule.record.annotations.is_null());
  const capsule::ContainerRecord& c = r.capsule.containers[0];
  CHECK(c.tty);
  CHECK_FALSE(c.interactive);
  CHECK(c.exposed_ports ==
        nlohmann::json{{"8080/tcp", nlohmann::json::object()},
                       {"53/udp", nlohmann::json::object()}});
  CHECK_FALSE(c.workdir);
  CHECK_FALSE(c.cpu);
  CHECK_FALSE(c.memory);
  CHECK(c.name == "capsule-web2-c0");
}

TEST_CASE("values the API accepts become rows as it writes them",
          "[template]") {
  CapsuleRequest r = Parse(
      One("image: bb, name: aa, tty: yes, stdin: True, resources: {},"
          " env: {N: '1'}, imagePullPolicy: Never",
          "  initContainers: [{image: bb, name: aa, resources: {requests: "
          "{}}}]\n"));
  // Repeated names stay apart.
  CHECK(r.capsule.init_containers[0].name == "capsule-t1-aa");
  CHECK(r.capsule.containers[0].name == "capsule-t1-aa-2");
  CHECK(r.capsule.containers[0].tty);
  CHECK(r.capsule.containers[0].interactive);
  CHECK(r.capsule.containers[0].image_pull_policy == "never");
  CHECK(r.capsule.containers[0].environment.at("N") == "1");
  // Label values are stored as str() of numbers and booleans.
  r = Parse(
      "kind: capsule\nmetadata: {labels: {a: 1, b: 0.5, c: true, d: x}}\n"
      "spec: {containers: [{image: bb}]}");
  CHECK(
      r.capsule.record.labels ==
      capsule::StringMap{{"a", "1"}, {"b", "0.5"}, {"c", "True"}, {"d", "x"}});
  // Python's `$` matches before a final newline: Zun takes this name.
  r = Parse(R"({"kind": "capsule", "metadata": {"name": "web\n"},
               "spec": {"containers": [{"image": "bb", "name": "main\n"}]}})");
  CHECK(r.capsule.record.name == "web\n");
  CHECK(r.capsule.containers[0].name == "capsule-web-main");
}

struct Case {
  std::string text;
  std::string error;
};

TEST_CASE("the API's schema errors, in its words", "[template]") {
  const std::string f = "Invalid input for field ";
  const std::vector<Case> cases = {
      // The template's own keys.
      {R"({"kind": "capsule", "apiVersion": "v1", "metadata": {}, "spec": {"containers": [{"image": "busybox"}]}})",
       f + "'template'.Value: '{'kind': 'capsule', 'apiVersion': 'v1', "
           "'metadata': {}, 'spec': {'containers': [{'image': 'busybox'}]}}'."
           " Additional properties are not allowed ('apiVersion' was "
           "unexpected)"},
      {"kind: capsule\nspec: {containers: [{image: bb}]}",
       f + "'template'.Value: '{'kind': 'capsule', 'spec': {'containers': "
           "[{'image': 'bb'}]}}'. 'metadata' is a required property"},
      {"metadata: {}\nspec: {containers: [{image: bb}]}",
       f + "'template'.Value: '{'metadata': {}, 'spec': {'containers': "
           "[{'image': 'bb'}]}}'. 'kind' is a required property"},
      {"kind: capsule\nmetadata: {}",
       f + "'template'.Value: '{'kind': 'capsule', 'metadata': {}}'. 'spec' "
           "is a required property"},
      {"", f + "'template'.Value: '{}'. 'kind' is a required property"},
      {"kind: pod\nmetadata: {}\nspec: {containers: [{image: bb}]}",
       f + "'kind'.Value: 'pod'. 'pod' is not one of ['capsule', 'Capsule']"},
      {"kind: capsule\ncapsuleVersion: v1\nmetadata: {}\nspec: {}",
       f + "'capsuleVersion'.Value: 'v1'. 'v1' is not one of ['beta', "
           "'Beta']"},
      {"kind: capsule\nmetadata: []\nspec: {}",
       f + "'metadata'.Value: '[]'. [] is not of type 'object'"},
      {"kind: capsule\nmetadata: {name: a}\nspec: {}",
       f + "'name'.Value: 'a'. 'a' is too short"},
      {"kind: capsule\nmetadata: {name: 'bad name!'}\nspec: {}",
       f + "'name'.Value: 'bad name!'. 'bad name!' does not match "
           "'^[a-zA-Z0-9][a-zA-Z0-9_.-]+$'"},
      {"kind: capsule\nmetadata: {name: " + std::string(256, 'n') +
           "}\nspec: {}",
       f + "'name'.Value: '" + std::string(256, 'n') + "'. '" +
           std::string(256, 'n') + "' is too long"},
      {"kind: capsule\nmetadata: {labels: [a]}\nspec: {}",
       f + "'labels'.Value: '['a']'. ['a'] is not of type 'object', 'null'"},
      {"kind: capsule\nmetadata: {}\navailabilityZone: ''\n"
       "spec: {containers: [{image: bb}]}",
       f + "'availabilityZone'.Value: ''. '' should be non-empty"},
      {"kind: capsule\nmetadata: {}\nspec: {restartPolicy: Sometimes, "
       "containers: [{image: bb}]}",
       f + "'restartPolicy'.Value: 'Sometimes'. 'Sometimes' is not one of "
           "['Always', 'OnFailure', 'Never']"},
      {"kind: capsule\nmetadata: {}\nspec: {}",
       f + "'spec'.Value: '{}'. 'containers' is a required property"},
      {"kind: capsule\nmetadata: {}\nspec: {containers: {image: bb}}",
       f + "'containers'.Value: '{'image': 'bb'}'. {'image': 'bb'} is not of "
           "type 'array'"},
      // A container.
      {One("image: bb, imag: c"),
       f + "'0'.Value: '{'image': 'bb', 'imag': 'c'}'. Additional properties "
           "are not allowed ('imag' was unexpected)"},
      {One("image: bb, z: 1, a: 2, livenessProbe: {}"),
       f + "'0'.Value: '{'image': 'bb', 'z': 1, 'a': 2, 'livenessProbe': {}}'."
           " Additional properties are not allowed ('a', 'livenessProbe', "
           "'z' were unexpected)"},
      {One("name: main"),
       f + "'0'.Value: '{'name': 'main'}'. 'image' is a required property"},
      {One("image: ''"), f + "'image'.Value: ''. '' is too short"},
      {One("image: '--'"), f + "'image'.Value: '--'. '--' does not match "
                               "'[a-zA-Z0-9][a-zA-Z0-9_.-]'"},
      {One("image: bb, command: sleep 1"),
       f + "'command'.Value: 'sleep 1'. 'sleep 1' is not of type 'array'"},
      {One("image: bb, args: [sleep, 1]"),
       f + "'1'.Value: '1'. 1 is not of type 'string', 'null'"},
      {One("image: bb, resources: {limits: {cpu: 1}}"),
       f + "'resources'.Value: '{'limits': {'cpu': 1}}'. Additional "
           "properties are not allowed ('limits' was unexpected)"},
      {One("image: bb, resources: {requests: {cpu: 1, gpu: 1}}"),
       f + "'requests'.Value: '{'cpu': 1, 'gpu': 1}'. Additional properties "
           "are not allowed ('gpu' was unexpected)"},
      {One("image: bb, resources: {requests: {cpu: 250m}}"),
       R"(Invalid input for field 'cpu'.Value: '250m'. '250m' does not match '^[0-9]*(\\.([0-9]+))?$')"},
      {One("image: bb, resources: {requests: {cpu: 100}}"),
       f + "'cpu'.Value: '100'. 100 is greater than the maximum of 16.0"},
      {One("image: bb, resources: {requests: {cpu: '20'}}"),
       f + "'cpu'.Value: '20'. 20 is greater than the maximum of 16.0"},
      {One("image: bb, resources: {requests: {cpu: 0.05}}"),
       f + "'cpu'.Value: '0.05'. 0.05 is less than the minimum of 0.1"},
      {One("image: bb, resources: {requests: {cpu: ''}}"),
       f + "'cpu'.Value: ''. '' should be non-empty"},
      {One("image: bb, resources: {requests: {cpu: true}}"),
       f + "'cpu'.Value: 'True'. True is not of type 'number', 'string', "
           "'null'"},
      {One("image: bb, resources: {requests: {memory: 64Mi}}"),
       f + "'memory'.Value: '64Mi'. '64Mi' does not match '^[0-9]+$'"},
      {One("image: bb, resources: {requests: {memory: 2}}"),
       f + "'memory'.Value: '2'. 2 is less than the minimum of 4"},
      {One("image: bb, resources: {requests: {memory: 1.5}}"),
       f + "'memory'.Value: '1.5'. 1.5 is not of type 'string', 'integer', "
           "'null'"},
      {One("image: bb, resources: {requests: {memory: 512.0}}"),
       f + "'memory'.Value: '512.0'. 512.0 is not of type 'string', "
           "'integer', 'null'"},
      {One("image: bb, resources: {requests: {memory: 9000}}"),
       f + "'memory'.Value: '9000'. 9000 is greater than the maximum of 8192"},
      {One("image: bb, resources: {requests: {memory: 1e9}}"),
       f + "'memory'.Value: '1e9'. 1000000000.0 is greater than the maximum "
           "of 8192"},
      {One("image: bb, ports: {containerPort: 80}"),
       f + "'ports'.Value: '{'containerPort': 80}'. {'containerPort': 80} is "
           "not of type 'array'"},
      {One("image: bb, ports: [{protocol: TCP}]"),
       f + "'0'.Value: '{'protocol': 'TCP'}'. 'containerPort' is a required "
           "property"},
      {One("image: bb, ports: [{containerPort: 80, protocol: tcp}]"),
       f + "'protocol'.Value: 'tcp'. 'tcp' is not one of ['TCP', 'UDP']"},
      {One("image: bb, ports: [{containerPort: -1}]"),
       f + "'containerPort'.Value: '-1'. -1 is less than the minimum of 0"},
      {One("image: bb, ports: [{containerPort: 80a}]"),
       f + "'containerPort'.Value: '80a'. '80a' does not match '^[0-9]*$'"},
      {One("image: bb, ports: [{containerPort: 80.5}]"),
       f + "'containerPort'.Value: '80.5'. 80.5 is not of type 'integer', "
           "'string'"},
      {One("image: bb, ports: [{containerPort: 80, targetPort: 8080}]"),
       f + "'0'.Value: '{'containerPort': 80, 'targetPort': 8080}'. "
           "Additional properties are not allowed ('targetPort' was "
           "unexpected)"},
      {One("image: bb, volumeMounts: [{name: v1}]"),
       f + "'0'.Value: '{'name': 'v1'}'. 'mountPath' is a required property"},
      {One("image: bb, volumeMounts: [{name: v1, mountPath: /d, readOnly: "
           "'yes'}]"),
       f + "'readOnly'.Value: 'yes'. 'yes' is not one of [True, 'True', "
           "'true', False, 'False', 'false']"},
      {One("image: bb, env: [{name: A, value: b}]"),
       f + "'env'.Value: '[{'name': 'A', 'value': 'b'}]'. [{'name': 'A', "
           "'value': 'b'}] is not of type 'object', 'null'"},
      {One("image: bb, env: {A: 1}"),
       f + "'A'.Value: '1'. 1 is not of type 'string'"},
      {One("image: bb, workDir: 5"),
       f + "'workDir'.Value: '5'. 5 is not of type 'string', 'null'"},
      {One("image: bb, imagePullPolicy: Sometimes"),
       f + "'imagePullPolicy'.Value: 'Sometimes'. 'Sometimes' is not one of "
           "['never', 'always', 'ifnotpresent', 'Never', 'Always', "
           "'IfNotPresent', None]"},
      {One("image: bb, stdin: 1"),
       f + "'stdin'.Value: '1'. 1 is not of type 'boolean', 'string'"},
      {One("image: bb, tty: 'yes'"),
       f + "'tty'.Value: 'yes'. 'yes' is not one of [True, 'True', 'true', "
           "False, 'False', 'false']"},
      // Volumes: Cinder only.
      {One("image: bb", "  volumes: [{name: site, emptyDir: {}}]\n"),
       f + "'0'.Value: '{'name': 'site', 'emptyDir': {}}'. 'cinder' is a "
           "required property"},
      {One("image: bb", "  volumes: {}\n"),
       f + "'volumes'.Value: '{}'. {} is not of type 'array', 'null'"},
      {One("image: bb", "  volumes: [{name: v, cinder: {size: 1}}]\n"),
       f + "'name'.Value: 'v'. 'v' is too short"},
      {One("image: bb",
           "  volumes: [{name: v1, cinder: {size: 1, type: x}}]\n"),
       f + "'cinder'.Value: '{'size': 1, 'type': 'x'}'. Additional properties "
           "are not allowed ('type' was unexpected)"},
      {One("image: bb", "  volumes: [{name: v1, cinder: {volumeID: abc}}]\n"),
       f + "'volumeID'.Value: 'abc'. 'abc' is too short"},
      {One("image: bb", "  volumes: [{name: v1, cinder: {size: '1'}}]\n"),
       f + "'size'.Value: '1'. '1' is not of type 'number'"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(ErrorOf(c.text) == c.error);
  }
}

TEST_CASE("the API's own checks after the schema", "[template]") {
  const std::string cinder = "  volumes: [{name: v1, cinder: {size: 1}}]\n";
  const std::vector<Case> cases = {
      {"kind: capsule\nmetadata: {}\nspec: {containers: []}",
       "Capsule need to have one container at least"},
      {One("image: bb", "  initContainers: [{name: x}]\n"),
       "Container image is needed"},
      {One("image: bb",
           "  volumes: [{name: v1, cinder: {autoRemove: true}}]\n"),
       "Volume size is needed"},
      {One("image: bb", "  volumes: [{name: v1, cinder: {size: 1, volumeID: " +
                            std::string(36, 'a') + "}}]\n"),
       "Volume size and uuid could not be set at the same time"},
      {One("image: bb", "  volumes: [{name: v1, cinder: {}}]\n"),
       "Zun now Only support Cinder volume driver"},
      // A declared volume that no container mounts; or mounts at ''.
      {One("image: bb", cinder), "volume mount parameters is invalid."},
      {One("image: bb, volumeMounts: [{name: v1, mountPath: ''}]", cinder),
       "volume mount parameters is invalid."},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(ErrorOf(c.text) == c.error);
  }
  // initContainers are held to the container schema (stricter than Zun).
  CHECK(ErrorOf(One("image: bb", "  initContainers: {image: bb}\n")) ==
        "Invalid input for field 'initContainers'.Value: '{'image': 'bb'}'. "
        "{'image': 'bb'} is not of type 'array', 'null'");
  CHECK(
      ErrorOf(One("image: bb", "  initContainers: [{image: bb, cpu: 1}]\n")) ==
      "Invalid input for field '0'.Value: '{'image': 'bb', 'cpu': 1}'. "
      "Additional properties are not allowed ('cpu' was unexpected)");
  // A valid Cinder volume: zun-capsule has no Cinder.
  absl::StatusOr<CapsuleRequest> r = CapsuleFromTemplate(
      One("image: bb, volumeMounts: [{name: v1, mountPath: /data}]", cinder),
      Opts());
  CHECK(r.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(absl::StrContains(r.status().message(), "Cinder"));
}

TEST_CASE("values that pass the schema but fail the API with HTTP 500",
          "[template]") {
  for (const std::string& c : {
           One("image: bb, resources: {requests: {cpu: '0.5'}}"),
           One("image: bb, resources: {requests: {memory: '512'}}"),
           One("image: bb, imagePullPolicy: ~"),
           One("image: bb, command: [sleep, ~]"),
           One("image: bb", "  initContainers: [{image: bb, args: [~]}]\n"),
           std::string("kind: capsule\nmetadata: {labels: {a: [1]}}\n"
                       "spec: {containers: [{image: bb}]}"),
       }) {
    CAPTURE(c);
    const std::string error = ErrorOf(c);
    CHECK(absl::StrContains(error, "the Zun API then fails (HTTP 500)"));
  }
  CHECK(ErrorOf(One("image: bb, resources: {requests: {cpu: '0.5'}}")) ==
        "spec.containers[0].resources.requests.cpu: '0.5' passes Zun's "
        "schema, but the Zun API then fails (HTTP 500) adding it to the "
        "capsule's total: write a number of vCPUs, e.g. cpu: 0.5");
}

TEST_CASE("YAML is read as PyYAML's safe_load reads it", "[template]") {
  // workDir takes strings and null only, so errors show what a value became.
  auto wd = [](const std::string& v) {
    return ErrorOf(
        "kind: capsule\nmetadata: {}\nspec:\n  containers:\n"
        "    - image: bb\n      workDir: " +
        v + "\n");
  };
  auto not_str = [](const std::string& v, const std::string& r) {
    return "Invalid input for field 'workDir'.Value: '" + v + "'. " + r +
           " is not of type 'string', 'null'";
  };
  CHECK(wd("010") == not_str("8", "8"));  // YAML 1.1 octal
  CHECK(wd("08").empty());                // not octal: a string
  CHECK(wd("1_000") == not_str("1000", "1000"));
  CHECK(wd("0x1F") == not_str("31", "31"));
  CHECK(wd("1:30") == not_str("90", "90"));  // sexagesimal
  CHECK(wd("-0b11") == not_str("-3", "-3"));
  CHECK(wd("1.5e+3") == not_str("1500.0", "1500.0"));
  CHECK(wd("1.5e3").empty());  // YAML 1.1 floats need a signed exponent
  CHECK(wd("1e5").empty());    // and a dot
  CHECK(wd(".5") == not_str("0.5", "0.5"));
  CHECK(wd("._5").empty());  // PyYAML 5.1+: a digit right after the dot
  CHECK(wd("1.") == not_str("1.0", "1.0"));
  CHECK(wd("Off") == not_str("False", "False"));
  CHECK(wd("YES") == not_str("True", "True"));
  CHECK(wd("y").empty());
  CHECK(wd("'010'").empty());
  CHECK(wd("!!str 010").empty());
  CHECK(wd("~").empty());
  CHECK(wd("'2024-01-01'").empty());
  // PyYAML makes dates of these, which the client cannot send.
  CHECK(absl::StrContains(wd("2024-01-01"), "YAML timestamp"));
  CHECK(absl::StrContains(wd("2024-1-2 10:00:00.5 +01:00"), "YAML timestamp"));
  CHECK(absl::StrContains(wd("<<"), "tag:yaml.org,2002:merge"));
  CHECK(wd("!!int '7'") == not_str("7", "7"));
  CHECK(absl::StrContains(wd("!foo x"), "could not determine a constructor"));
  CHECK(absl::StrContains(wd(".inf"), "not a finite number"));
  CHECK(absl::StrContains(wd("99999999999999999999"), "out of range"));
  // JSON is read by json.loads: 1e3 is a float there.
  CHECK(
      ErrorOf(
          R"({"kind": "capsule", "metadata": {}, "spec": {"containers": [{"image": "bb", "workDir": 1e3}]}})") ==
      not_str("1000.0", "1000.0"));
  // Later duplicate keys win; merge keys apply.
  CapsuleRequest r = Parse(
      "kind: capsule\nmetadata: {name: one, name: two}\nspec:\n"
      "  base: &base {image: busybox, workDir: /srv}\n"
      "  containers:\n    - <<: *base\n      workDir: /tmp\n");
  CHECK(r.capsule.record.name == "two");
  CHECK(r.capsule.containers[0].image == "busybox");
  CHECK(r.capsule.containers[0].workdir == "/tmp");
  // Non-string keys become json.dumps's strings.
  r = Parse(One("image: bb, env: {1: x, true: y, .inf: z, ~: n, 0x10: h}"));
  CHECK(r.capsule.containers[0].environment ==
        capsule::StringMap{{"1", "x"},
                           {"true", "y"},
                           {"Infinity", "z"},
                           {"null", "n"},
                           {"16", "h"}});
  // Tags for values JSON cannot carry are refused.
  CHECK(absl::StrContains(wd("!!set {a, b}"), "tag:yaml.org,2002:set"));
  CHECK(absl::StrContains(wd("!!binary aGk="), "tag:yaml.org,2002:binary"));
}

TEST_CASE("documents the client cannot send are refused", "[template]") {
  CHECK(
      absl::StrContains(ErrorOf("{\"kind\": \"capsule\", "), "not valid JSON"));
  CHECK(absl::StrContains(ErrorOf("{kind: capsule}"), "not valid JSON"));
  CHECK(absl::StrContains(ErrorOf("kind: [capsule"), "not valid YAML"));
  CHECK(absl::StrContains(ErrorOf("- a\n- b\n"), "expected a mapping"));
  CHECK(absl::StrContains(ErrorOf("just text"), "expected a mapping"));
  CHECK(absl::StrContains(ErrorOf("kind: capsule\n---\nkind: capsule\n"),
                          "single document"));
  // yaml-cpp's LoadAll never ends on these; PyYAML refuses them.
  CHECK(absl::StrContains(ErrorOf(",ON"), "single document"));
  CHECK(absl::StrContains(ErrorOf("- a\n,b"), "single document"));
  CHECK(absl::StrContains(ErrorOf("kind: \"a\x01\"\n"),
                          "unacceptable character #x0001"));
  CHECK(absl::StrContains(ErrorOf("kind: \xff\n"), "utf-8"));
  CHECK(absl::StrContains(ErrorOf(std::string(kMaxTemplateBytes + 1, ' ')),
                          "larger than"));
  // Deep nesting and alias bombs are refused, not a crash.
  CHECK_FALSE(
      ErrorOf(std::string(100000, '[') + std::string(100000, ']')).empty());
  CHECK(absl::StrContains(ErrorOf("{\"a\": " + std::string(100000, '[') +
                                  std::string(100000, ']') + "}"),
                          "nested too deeply"));
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    const char p = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [*" + p + ", *" + p + ", *" + p +
            ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" +
            p + ", *" + p + "]\n";
  }
  CHECK(absl::StrContains(ErrorOf(bomb), "values"));
}

TEST_CASE("Python's repr() of values", "[template]") {
  CHECK(PyFloatRepr(0.1) == "0.1");
  CHECK(PyFloatRepr(16.0) == "16.0");
  CHECK(PyFloatRepr(1e-5) == "1e-05");
  CHECK(PyFloatRepr(0.0001) == "0.0001");
  CHECK(PyFloatRepr(1e16) == "1e+16");
  CHECK(PyFloatRepr(1234567890123456.0) == "1234567890123456.0");
  CHECK(PyFloatRepr(-2.5e-300) == "-2.5e-300");
  CHECK(PyFloatRepr(-0.0) == "-0.0");
  CHECK(PyReprString("it's") == "\"it's\"");
  CHECK(PyReprString("a'\"b") == R"('a\'"b')");
  CHECK(PyReprString("tab\there\\\n\x01") == R"('tab\there\\\n\x01')");
  CHECK(PyReprString("caf\xc3\xa9 \xc2\xa0") == "'caf\xc3\xa9 \\xa0'");
  CHECK(PyRepr(TemplateJson::parse(R"({"a": [1, 2.5, true, null, "x"]})")) ==
        "{'a': [1, 2.5, True, None, 'x']}");
  auto num = [](const std::string& s) {
    std::optional<PyNumber> n = PyNumberFromString(s);
    return n ? n->repr : "-";
  };
  CHECK(num(" 007 ") == "7");
  CHECK(num("-1_000") == "-1000");
  CHECK(num("1__0") == "-");
  CHECK(num("2.50") == "2.5");
  CHECK(num(".5e1") == "5.0");
  CHECK(num("Infinity") == "inf");
  CHECK(num("0x10") == "-");
  CHECK(num("") == "-");
  CHECK(num(".") == "-");
  CHECK(num("1e") == "-");
}

}  // namespace
}  // namespace zun::tools
