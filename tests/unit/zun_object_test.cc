#include "rpc/zun_object.h"

#include <catch2/catch.hpp>

#include "tests/unit/captures.h"

namespace zun::rpc {
namespace {

using zun::testing::LoadCapture;

nlohmann::json CaptureArgs(const char* name) {
  nlohmann::json cap = LoadCapture(name);
  return nlohmann::json::parse(
      nlohmann::json::parse(
          cap["request"]["body_raw"].get<std::string>())["oslo.message"]
          .get<std::string>())["args"];
}

TEST_CASE("a captured Container primitive decodes field by field") {
  nlohmann::json args = CaptureArgs("01-cast-container_create.json");
  absl::StatusOr<capsule::ContainerRecord> r =
      DecodeContainerRecord(args["container"]);
  REQUIRE(r.ok());
  CHECK(r->container_type == capsule::ContainerType::kContainer);
  CHECK(r->id == 7);
  CHECK(r->uuid == "e3b0c442-98fc-4c14-9afb-f4c8996fb924");
  CHECK(r->name == "probe-ctr");
  CHECK(r->image == "cirros:latest");
  CHECK(r->cpu == 1.0);
  CHECK(r->memory == "512");
  CHECK(r->command == std::vector<std::string>{"sleep", "3600"});
  CHECK(r->environment.at("FOO") == "bar");
  CHECK(r->labels.at("app") == "probe");
  CHECK(r->security_groups == std::vector<std::string>{"default"});
  CHECK(r->disk == 0);
  CHECK_FALSE(r->container_id.has_value());
  CHECK(r->addresses.is_null());
  REQUIRE(r->created_at.has_value());
  CHECK(FormatObjectTime(*r->created_at) == "2026-01-02T03:04:06Z");
  // It is a Container, not a Capsule.
  CHECK(DecodeCapsule(args["container"]).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the container of a delete cast and of a show reply decode") {
  nlohmann::json del = CaptureArgs("02-cast-container_delete.json");
  absl::StatusOr<capsule::ContainerRecord> r =
      DecodeContainerRecord(del["container"]);
  REQUIRE(r.ok());
  CHECK(r->status == "Deleting");
  CHECK(del["force"] == true);
  nlohmann::json show = LoadCapture("04-call-container_show.json");
  nlohmann::json result = nlohmann::json::parse(
      nlohmann::json::parse(
          show["replies"][0]["body_raw"].get<std::string>())["oslo.message"]
          .get<std::string>())["result"];
  absl::StatusOr<capsule::ContainerRecord> shown =
      DecodeContainerRecord(result);
  REQUIRE(shown.ok());
  CHECK(shown->status == "Running");
  CHECK(shown->status_detail == "Up 2 seconds");
  CHECK(shown->host == "compute-host-1");
}

TEST_CASE("JsonFields travel as JSON strings and datetimes drop fractions") {
  nlohmann::json enc =
      LoadCapture("zun-object-field-encodings.json")["primitive"];
  absl::StatusOr<capsule::ContainerRecord> r = DecodeContainerRecord(enc);
  REQUIRE(r.ok());
  CHECK(r->addresses["b5a7c1a2"][0]["addr"] == "10.0.0.5");
  CHECK(r->healthcheck["interval"] == 10);
  CHECK(r->cpu == 2.0);
  CHECK(r->cpuset["cpuset_cpus"] == nlohmann::json::array({0, 1}));
  REQUIRE(r->started_at.has_value());
  CHECK(FormatObjectTime(*r->started_at) == "2026-01-02T03:04:05Z");
}

capsule::Capsule SampleCapsule() {
  capsule::Capsule c;
  c.record.container_type = capsule::ContainerType::kCapsule;
  c.record.id = 3;
  c.record.uuid = "0b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69";
  c.record.name = "web";
  c.record.status = "Running";
  c.record.cpu = 1.5;
  c.record.memory = "256";
  c.record.labels = {{"app", "web"}};
  c.record.restart_policy = {{"Name", "always"}, {"MaximumRetryCount", "0"}};
  c.record.addresses = {{"net", {{{"addr", "10.0.0.9"}, {"version", 4}}}}};
  c.record.annotations = {{"a", "b"}};
  c.record.created_at = absl::FromUnixSeconds(1767225600);
  capsule::ContainerRecord child;
  child.container_type = capsule::ContainerType::kCapsuleContainer;
  child.id = 4;
  child.capsule_id = 3;
  child.uuid = "1b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69";
  child.name = "capsule-web-x";
  child.image = "nginx";
  child.command = {"nginx", "-g", "daemon off;"};
  child.environment = {{"K", "V"}};
  child.container_id = "abc";
  child.status = "Running";
  c.containers.push_back(child);
  capsule::ContainerRecord init = child;
  init.container_type = capsule::ContainerType::kCapsuleInitContainer;
  init.uuid = "2b6f3d7e-5a1c-4c44-9a0e-1f2d3c4b5a69";
  init.status = "Stopped";
  c.init_containers.push_back(init);
  return c;
}

TEST_CASE("a capsule encodes to a primitive that decodes back to it") {
  capsule::Capsule c = SampleCapsule();
  OrderedJson p = EncodeCapsule(c, "1.4");
  CHECK(p["zun_object.name"] == "Capsule");
  CHECK(p["zun_object.version"] == "1.4");
  CHECK(p["zun_object.data"]["addresses"].is_string());
  CHECK(p["zun_object.data"]["containers"][0]["zun_object.name"] ==
        "CapsuleContainer");
  CHECK(p["zun_object.data"]["init_containers"][0]["zun_object.name"] ==
        "CapsuleInitContainer");
  CHECK(
      p["zun_object.data"]["containers"][0]["zun_object.data"]["capsule_id"] ==
      3);
  absl::StatusOr<capsule::Capsule> back =
      DecodeCapsule(nlohmann::json::parse(p.dump()));
  REQUIRE(back.ok());
  CHECK(back->record.uuid == c.record.uuid);
  CHECK(back->record.cpu == 1.5);
  CHECK(back->record.addresses == c.record.addresses);
  CHECK(back->record.annotations == c.record.annotations);
  CHECK(back->record.restart_policy == c.record.restart_policy);
  CHECK(back->record.created_at == c.record.created_at);
  REQUIRE(back->containers.size() == 1);
  CHECK(back->containers[0].command == c.containers[0].command);
  CHECK(back->containers[0].container_id == "abc");
  REQUIRE(back->init_containers.size() == 1);
  CHECK(back->init_containers[0].status == "Stopped");
}

TEST_CASE("mistyped or foreign primitives are refused naming the problem") {
  nlohmann::json p =
      nlohmann::json::parse(EncodeCapsule(SampleCapsule(), "1.4").dump());
  nlohmann::json bad = p;
  bad["zun_object.data"]["cpu"] = "lots";
  auto r = DecodeCapsule(bad);
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("'cpu'"));
  bad = p;
  bad["zun_object.namespace"] = "nova";
  CHECK(DecodeCapsule(bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
  bad = p;
  bad["zun_object.version"] = "2.0";
  CHECK(DecodeCapsule(bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
  bad = p;
  bad["zun_object.name"] = "Volume";
  CHECK(DecodeCapsule(bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
  bad = p;
  bad["zun_object.data"].erase("uuid");
  CHECK(DecodeCapsule(bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
  bad = p;
  bad["zun_object.data"]["containers"] = "nope";
  CHECK(DecodeCapsule(bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
  // Unknown fields (a newer minor version) are tolerated.
  nlohmann::json newer = p;
  newer["zun_object.version"] = "1.9";
  newer["zun_object.data"]["brand_new_field"] = 1;
  CHECK(DecodeCapsule(newer).ok());
}

}  // namespace
}  // namespace zun::rpc

namespace zun::rpc {
namespace {

// Every zun_object the agent writes carries a version Zun's own object code
// accepts (zun/objects/*.py VERSION): a newer one makes Zun raise
// IncompatibleObjectVersion for the whole request (for pci_stats: every
// scheduling request of every host).
TEST_CASE("every object the agent writes has Zun's version") {
  const OrderedJson pci = EmptyPciDevicePoolList();
  CHECK(pci["zun_object.name"] == "PciDevicePoolList");
  CHECK(pci["zun_object.namespace"] == "zun");
  CHECK(pci["zun_object.version"] == "1.0");
  CHECK(pci["zun_object.data"] ==
        OrderedJson{{"objects", OrderedJson::array()}});
  CHECK(pci["zun_object.changes"] == OrderedJson::array({"objects"}));
  // As Zun's jsonutils.dumps writes it: name, namespace, version, data,
  // changes.
  CHECK(
      pci.dump() ==
      R"({"zun_object.name":"PciDevicePoolList","zun_object.namespace":"zun",)"
      R"("zun_object.version":"1.0","zun_object.data":{"objects":[]},)"
      R"("zun_object.changes":["objects"]})");

  capsule::Capsule c;
  c.record.uuid = "c";
  c.record.container_type = capsule::ContainerType::kCapsule;
  capsule::ContainerRecord init;
  init.uuid = "i";
  init.container_type = capsule::ContainerType::kCapsuleInitContainer;
  capsule::ContainerRecord main;
  main.uuid = "m";
  main.container_type = capsule::ContainerType::kCapsuleContainer;
  c.init_containers = {init};
  c.containers = {main};
  const OrderedJson p = EncodeCapsule(c, kCapsuleVersion);
  CHECK(p["zun_object.name"] == "Capsule");
  CHECK(p["zun_object.version"] == "1.4");
  const OrderedJson& d = p["zun_object.data"];
  CHECK(d["containers"][0]["zun_object.name"] == "CapsuleContainer");
  CHECK(d["containers"][0]["zun_object.version"] == "1.4");
  CHECK(d["init_containers"][0]["zun_object.name"] == "CapsuleInitContainer");
  CHECK(d["init_containers"][0]["zun_object.version"] == "1.4");
  // Cpuset (a field of every container object) is Zun's 1.0.
  CHECK(d["cpuset"]["zun_object.name"] == "Cpuset");
  CHECK(d["cpuset"]["zun_object.version"] == "1.0");
}

}  // namespace
}  // namespace zun::rpc
