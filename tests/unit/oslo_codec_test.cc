#include "rpc/oslo_codec.h"

#include <catch2/catch.hpp>

#include "tests/unit/captures.h"

namespace zun::rpc {
namespace {

using zun::testing::LoadCapture;

const char* const kAllCaptures[] = {"01-cast-container_create.json",
                                    "02-cast-container_delete.json",
                                    "03-call-image_search.json",
                                    "04-call-container_show.json",
                                    "05-call-network_create-no-server.json",
                                    "06-call-remote-exception.json",
                                    "07-call-no-such-method.json",
                                    "08-call-with-call_monitor_timeout.json",
                                    "09-cast-fanout.json",
                                    "10-call-timeout-unknown-server.json",
                                    "11-call-versioned-namespaced.json"};

TEST_CASE("every captured request decodes into what the Python server saw") {
  for (const char* name : kAllCaptures) {
    CAPTURE(name);
    nlohmann::json cap = LoadCapture(name);
    const std::string body = cap["request"]["body_raw"];
    absl::StatusOr<IncomingMessage> m = DecodeMessage(body, DecodeLimits{});
    REQUIRE(m.ok());
    nlohmann::json inner = nlohmann::json::parse(
        nlohmann::json::parse(body)["oslo.message"].get<std::string>());
    CHECK(m->method == inner["method"]);
    CHECK(m->args == inner["args"]);
    CHECK(m->unique_id == inner["_unique_id"]);
    CHECK(m->is_call() == inner.contains("_msg_id"));
    if (m->is_call()) {
      CHECK(*m->msg_id == inner["_msg_id"]);
      CHECK(*m->reply_q == inner["_reply_q"]);
    }
    CHECK(m->context.request_id == inner["_context_request_id"]);
    CHECK(m->context.project_id == inner["_context_project_id"]);
    CHECK(m->context.user_id == inner["_context_user_id"]);
    CHECK(m->context.roles ==
          inner["_context_roles"].get<std::vector<std::string>>());
    CHECK(m->context.raw["auth_token"] == inner["_context_auth_token"]);
    CHECK_FALSE(m->context.raw.contains("_context_request_id"));
  }
}

TEST_CASE("version, namespace and call-monitor timeout are decoded") {
  auto v = DecodeMessage(
      LoadCapture("11-call-versioned-namespaced.json")["request"]["body_raw"]
          .get<std::string>(),
      {});
  REQUIRE(v.ok());
  CHECK(v->version == "1.1");
  CHECK(v->ns.empty());
  auto t = DecodeMessage(
      LoadCapture(
          "08-call-with-call_monitor_timeout.json")["request"]["body_raw"]
          .get<std::string>(),
      {});
  REQUIRE(t.ok());
  REQUIRE(t->timeout.has_value());
  CHECK(*t->timeout == 4);
  auto cast = DecodeMessage(
      LoadCapture("01-cast-container_create.json")["request"]["body_raw"]
          .get<std::string>(),
      {});
  REQUIRE(cast.ok());
  CHECK(cast->version == "1.0");
  CHECK_FALSE(cast->timeout.has_value());
}

// Replies are compared byte for byte with oslo's, using the ids oslo used.
TEST_CASE("result replies match oslo byte for byte") {
  for (const char* name :
       {"03-call-image_search.json", "05-call-network_create-no-server.json",
        "08-call-with-call_monitor_timeout.json"}) {
    CAPTURE(name);
    nlohmann::json cap = LoadCapture(name);
    for (const auto& reply : cap["replies"]) {
      const std::string raw = reply["body_raw"];
      OrderedJson inner = OrderedJson::parse(
          OrderedJson::parse(raw)["oslo.message"].get<std::string>());
      REQUIRE(inner["failure"].is_null());
      const std::string ours =
          EncodeReply(inner["_msg_id"].get<std::string>(),
                      inner["_unique_id"].get<std::string>(), inner["result"],
                      nullptr, inner["ending"].get<bool>());
      CHECK(ours == raw);
    }
  }
}

TEST_CASE("failure replies match oslo's format") {
  struct Case {
    const char* file;
    RemoteError error;
  };
  Case cases[] = {
      {"07-call-no-such-method.json", NoSuchMethod("no_such_method")},
      {"11-call-versioned-namespaced.json",
       UnsupportedVersion("1.1", "image_search")},
      {"06-call-remote-exception.json",
       ZunError("ImageNotFound", "Image no-such-image could not be found.", 400,
                OrderedJson{{"image", "no-such-image"}})},
  };
  for (Case& c : cases) {
    CAPTURE(c.file);
    nlohmann::json cap = LoadCapture(c.file);
    const std::string raw = cap["replies"][0]["body_raw"];
    OrderedJson inner = OrderedJson::parse(
        OrderedJson::parse(raw)["oslo.message"].get<std::string>());
    OrderedJson theirs =
        OrderedJson::parse(inner["failure"].get<std::string>());
    // oslo's traceback names Python files; use theirs to compare the rest
    // byte for byte.
    c.error.tb = theirs["tb"].get<std::vector<std::string>>();
    const std::string ours = EncodeReply(inner["_msg_id"].get<std::string>(),
                                         inner["_unique_id"].get<std::string>(),
                                         OrderedJson(), &c.error, true);
    CHECK(ours == raw);
  }
}

TEST_CASE("python-style JSON escapes non-ASCII and control characters") {
  CHECK(PyQuote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(PyQuote("tab\there\n") == R"("tab\there\n")");
  CHECK(PyQuote("\x01\x7f") == R"("\u0001\u007f")");
  CHECK(PyQuote("caf\xc3\xa9") == R"("caf\u00e9")");
  CHECK(PyQuote("\xf0\x9f\x98\x80") == R"("\ud83d\ude00")");
  CHECK(
      PyDumps(OrderedJson::parse(R"({"b": [1, 2.0, null, true], "a": {}})")) ==
      R"({"b": [1, 2.0, null, true], "a": {}})");
}

TEST_CASE("malformed bodies are refused with a reason") {
  DecodeLimits limits;
  limits.max_body_bytes = 1000;
  limits.max_depth = 8;
  CHECK(DecodeMessage("not json", limits).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(DecodeMessage("[1,2]", limits).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(DecodeMessage(std::string(2000, ' '), limits).status().code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(
      DecodeMessage(R"({"oslo.version": "3.0", "oslo.message": "{}"})", limits)
          .status()
          .code() == absl::StatusCode::kInvalidArgument);
  CHECK(DecodeMessage(
            R"({"oslo.version": "2.0", "oslo.message": "{\"args\": {}}"})",
            limits)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(
      DecodeMessage(R"({"method": "x", "args": []})", limits).status().code() ==
      absl::StatusCode::kInvalidArgument);
  CHECK(DecodeMessage(R"({"method": "x", "_msg_id": "1"})", limits)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  std::string deep = R"({"method": "x", "args": {"a": )" +
                     std::string(20, '[') + std::string(20, ']') + "}}";
  CHECK(DecodeMessage(deep, limits).status().code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(DecodeMessage("{\"method\": \"\xff\"}", limits).status().code() ==
        absl::StatusCode::kInvalidArgument);
  // A legacy (1.0) message without the envelope is the message itself.
  auto legacy = DecodeMessage(R"({"method": "x", "args": {"k": 1}})", limits);
  REQUIRE(legacy.ok());
  CHECK(legacy->args["k"] == 1);
}

TEST_CASE("requests encode the way oslo's client does") {
  OutgoingRequest r;
  r.method = "container_delete";
  r.args = OrderedJson{{"container", "x"}, {"force", true}};
  r.unique_id = "u1";
  r.context = OrderedJson{{"request_id", "req-1"}};
  const std::string body = EncodeRequest(r);
  auto m = DecodeMessage(body, {});
  REQUIRE(m.ok());
  CHECK(m->method == "container_delete");
  CHECK(m->args["force"] == true);
  CHECK(m->context.request_id == "req-1");
  CHECK_FALSE(m->is_call());
}

}  // namespace
}  // namespace zun::rpc
