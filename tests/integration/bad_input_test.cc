// Hostile and broken input through the bus against the agent process: each
// message is answered with a failure (calls that can be answered) or
// dropped and counted, the agent keeps serving, and capsules sent before
// and after are handled normally.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/uuid.h"
#include "rpc/oslo_codec.h"
#include "rpc/py_json.h"
#include "rpc/zun_object.h"
#include "tests/support/agent_harness.h"
#include "tests/support/amqp_probe.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

using rpc::OrderedJson;

std::string Envelope(const std::string& inner) {
  return rpc::PyDumps(
      OrderedJson{{"oslo.version", "2.0"}, {"oslo.message", inner}});
}

// A call (reply expected) or cast of `method(args)`.
std::string Request(const std::string& method, OrderedJson args,
                    const std::string& reply_q = "") {
  rpc::OutgoingRequest r;
  r.method = method;
  r.args = std::move(args);
  r.context = {{"request_id", "req-bad-input"}};
  r.unique_id = NewUuid4Hex();
  if (!reply_q.empty()) {
    r.msg_id = NewUuid4Hex();
    r.reply_q = reply_q;
  }
  return rpc::EncodeRequest(r);
}

std::string Nested(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST_CASE(
    "bad input through the bus: failures or counted drops, serving "
    "goes on, nothing lost before or after") {
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  AgentHarness h(o);
  REQUIRE(h.WaitServing());
  auto make = [&](const std::string& name) {
    capsule::Capsule c;
    c.record.name = name;
    c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
    return h.CreateCapsule(c);
  };
  const capsule::Capsule before = make("before");
  REQUIRE(h.CastCreate(before).ok());

  auto probe = AmqpProbe::Connect(h.amqp_url());
  REQUIRE(probe.ok());
  auto reply_q = (*probe)->ReplyQueue();
  REQUIRE(reply_q.ok());
  const std::string rk = "zun-compute." + h.host();

  // Undecodable: no one to answer; each is dropped and counted.
  const std::string valid_inner =
      rpc::PyDumps(OrderedJson{{"method", "container_show"}, {"args", {}}});
  const std::vector<std::string> undecodable = {
      "{\"oslo.version\": \"2.0\", \"oslo.mess",         // truncated
      "this is not JSON",                                // not JSON
      rpc::PyDumps(OrderedJson{{"oslo.version", "3.0"},  // envelope
                               {"oslo.message", valid_inner}}),
      Envelope("{\"method\": 42, \"args\": {}}"),  // field type
      Envelope("{\"method\": \"container_show\", \"args\": []}"),
      std::string(10 << 20, ' ') + "{}",  // 10 MB
      Envelope(Nested(5000)),             // deep
      Nested(100000),
      std::string(
          "{\"oslo.version\": \"2.0\", \"oslo.message\": \"\xff\xfe\"}"),
  };
  for (const std::string& body : undecodable) {
    REQUIRE((*probe)->Publish("zun", rk, body).ok());
  }

  // Decodable but unusable: calls get a failure reply, casts are dropped
  // and counted.
  OrderedJson primitive = rpc::EncodeCapsule(before, "1.4");
  OrderedJson unknown_name = primitive;
  unknown_name["zun_object.name"] = "Teapot";
  OrderedJson unknown_version = primitive;
  unknown_version["zun_object.version"] = "9.0";
  OrderedJson bad_type = primitive;
  bad_type["zun_object.data"]["cpu"] = "lots";
  OrderedJson many = primitive;
  many["zun_object.data"]["containers"] = OrderedJson::array();
  for (int i = 0; i < 20000; ++i) {
    many["zun_object.data"]["containers"].push_back(
        {{"zun_object.name", "CapsuleContainer"},
         {"zun_object.namespace", "zun"},
         {"zun_object.version", "1.0"},
         {"zun_object.data", {{"uuid", i}}}});
  }
  const std::vector<OrderedJson> bad_args = {
      OrderedJson::object(),  // missing container
      {{"container", nullptr}},
      {{"container", "a string"}},
      {{"container", unknown_name}},
      {{"container", unknown_version}},
      {{"container", bad_type}},
      {{"container", many}},  // huge list of containers
  };
  for (const OrderedJson& args : bad_args) {
    REQUIRE((*probe)
                ->Publish("zun", rk, Request("container_show", args, *reply_q))
                .ok());
    REQUIRE(
        (*probe)->Publish("zun", rk, Request("container_create", args)).ok());
  }
  // One final reply per call (heartbeats, "ending": false, do not count).
  std::vector<nlohmann::json> finals;
  REQUIRE(PollUntil([&] {
    for (auto& r : (*probe)->ReadReplies(absl::Milliseconds(100))) {
      auto outer = nlohmann::json::parse(r);
      auto inner =
          nlohmann::json::parse(outer["oslo.message"].get<std::string>());
      if (inner.contains("ending") && inner["ending"] == false) continue;
      finals.push_back(std::move(inner));
    }
    return finals.size() >= bad_args.size();
  }));
  CHECK(finals.size() == bad_args.size());
  for (const nlohmann::json& inner : finals) {
    CAPTURE(inner.dump());
    CHECK(inner.contains("failure"));
  }

  // Counted: the undecodable ones as malformed, the casts as invalid (the
  // casts run after the calls of the same batch may have been answered).
  REQUIRE(PollUntil([&] {
    return MetricOf(o.metrics_port,
                    R"(zun_agent_amqp_events_total{event="malformed"})") ==
           static_cast<double>(undecodable.size());
  }));
  double invalid = 0;
  CHECK(PollUntil([&] {
    invalid = MetricOf(
        o.metrics_port,
        R"(zun_agent_rpc_messages_total{method="container_create",outcome="invalid"})");
    return invalid >= static_cast<double>(bad_args.size());
  }));
  CHECK(invalid == static_cast<double>(bad_args.size()));

  // Still serving: the capsule sent before runs, one sent after runs too.
  const capsule::Capsule after = make("after");
  REQUIRE(h.CastCreate(after).ok());
  REQUIRE(PollUntil([&] {
    return h.StatusOf(before.uuid()) == "Running" &&
           h.StatusOf(after.uuid()) == "Running";
  }));
  CHECK(h.agent()->Running());
  auto sandboxes = h.cri().ListPodSandbox({});
  REQUIRE(sandboxes.ok());
  CHECK(sandboxes->size() == 2);
}

}  // namespace
}  // namespace zun::testing
