#include "rpc/oslo_codec.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace zun::rpc {
namespace {

constexpr std::string_view kContextPrefix = "_context_";

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

absl::StatusOr<nlohmann::json> ParseLayer(std::string_view text,
                                          const DecodeLimits& limits,
                                          std::string_view what) {
  if (JsonDepth(text, limits.max_depth) > limits.max_depth) {
    return absl::ResourceExhaustedError(absl::StrCat(
        AV(what), " is nested deeper than ", limits.max_depth, " levels"));
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return Bad(absl::StrCat(AV(what), " is not valid JSON (or not UTF-8)"));
  }
  if (!j.is_object())
    return Bad(absl::StrCat(AV(what), " is not a JSON object"));
  return j;
}

std::string StringOr(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

RequestContext ParseContext(nlohmann::json raw) {
  RequestContext c;
  c.request_id = StringOr(raw, "request_id");
  c.global_request_id = StringOr(raw, "global_request_id");
  c.user_id = StringOr(raw, "user_id");
  if (c.user_id.empty()) c.user_id = StringOr(raw, "user");
  c.user_name = StringOr(raw, "user_name");
  c.project_id = StringOr(raw, "project_id");
  if (c.project_id.empty()) c.project_id = StringOr(raw, "project");
  c.project_name = StringOr(raw, "project_name");
  if (auto it = raw.find("roles"); it != raw.end() && it->is_array()) {
    for (const auto& r : *it) {
      if (r.is_string()) c.roles.push_back(r.get<std::string>());
    }
  }
  if (auto it = raw.find("is_admin"); it != raw.end() && it->is_boolean()) {
    c.is_admin = it->get<bool>();
  }
  c.raw = std::move(raw);
  return c;
}

}  // namespace

int JsonDepth(std::string_view s, int limit) {
  int depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max;
}

absl::StatusOr<IncomingMessage> DecodeMessage(std::string_view body,
                                              const DecodeLimits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("message of ", body.size(), " bytes exceeds the limit of ",
                     limits.max_body_bytes));
  }
  absl::StatusOr<nlohmann::json> outer = ParseLayer(body, limits, "body");
  if (!outer.ok()) return outer.status();
  nlohmann::json msg;
  auto ver = outer->find("oslo.version");
  auto inner = outer->find("oslo.message");
  if (ver != outer->end() || inner != outer->end()) {
    if (ver == outer->end() || !ver->is_string() || inner == outer->end() ||
        !inner->is_string()) {
      return Bad("envelope needs string 'oslo.version' and 'oslo.message'");
    }
    const std::string v = ver->get<std::string>();
    std::string major(v.substr(0, v.find('.')));
    if (major != "2") {
      return Bad(absl::StrCat("unsupported envelope version '", v, "'"));
    }
    absl::StatusOr<nlohmann::json> m = ParseLayer(
        inner->get_ref<const std::string&>(), limits, "oslo.message");
    if (!m.ok()) return m.status();
    msg = *std::move(m);
  } else {
    msg = *std::move(outer);  // legacy 1.0: the body is the message
  }

  IncomingMessage out;
  auto method = msg.find("method");
  if (method == msg.end() || !method->is_string() ||
      method->get_ref<const std::string&>().empty()) {
    return Bad("message has no 'method' string");
  }
  out.method = method->get<std::string>();
  if (auto args = msg.find("args"); args != msg.end() && !args->is_null()) {
    if (!args->is_object()) return Bad("'args' is not an object");
    out.args = std::move(*args);
  }
  if (auto v = msg.find("version"); v != msg.end() && !v->is_null()) {
    if (!v->is_string()) return Bad("'version' is not a string");
    out.version = v->get<std::string>();
  }
  if (auto ns = msg.find("namespace"); ns != msg.end() && !ns->is_null()) {
    if (!ns->is_string()) return Bad("'namespace' is not a string");
    out.ns = ns->get<std::string>();
  }
  if (auto u = msg.find("_unique_id"); u != msg.end() && !u->is_null()) {
    if (!u->is_string()) return Bad("'_unique_id' is not a string");
    out.unique_id = u->get<std::string>();
  }
  if (auto id = msg.find("_msg_id"); id != msg.end() && !id->is_null()) {
    if (!id->is_string()) return Bad("'_msg_id' is not a string");
    out.msg_id = id->get<std::string>();
    auto q = msg.find("_reply_q");
    if (q == msg.end() || !q->is_string() ||
        q->get_ref<const std::string&>().empty()) {
      return Bad("a call ('_msg_id') needs a '_reply_q' string");
    }
    out.reply_q = q->get<std::string>();
  }
  if (auto t = msg.find("_timeout"); t != msg.end() && !t->is_null()) {
    if (!t->is_number()) return Bad("'_timeout' is not a number");
    out.timeout = t->get<double>();
  }
  nlohmann::json ctx = nlohmann::json::object();
  for (auto& [k, v] : msg.items()) {
    if (absl::StartsWith(k, AV(kContextPrefix))) {
      ctx[k.substr(kContextPrefix.size())] = std::move(v);
    }
  }
  out.context = ParseContext(std::move(ctx));
  return out;
}

RemoteError NoSuchMethod(std::string_view method) {
  RemoteError e;
  e.cls = "NoSuchMethod";
  e.module = "oslo_messaging.rpc.dispatcher";
  e.message = absl::StrCat("Endpoint does not support RPC method ", AV(method));
  e.args = OrderedJson::array({e.message});
  e.tb = {"Traceback (most recent call last):\n",
          "  File \"zun-agent\", in dispatch\n",
          absl::StrCat(
              "oslo_messaging.rpc.dispatcher.NoSuchMethod: ", e.message, "\n")};
  return e;
}

RemoteError UnsupportedVersion(std::string_view version,
                               std::string_view method) {
  RemoteError e;
  e.cls = "UnsupportedVersion";
  e.module = "oslo_messaging.rpc.dispatcher";
  e.message = absl::StrCat("Endpoint does not support RPC version ",
                           AV(version), ". Attempted method: ", AV(method));
  e.args = OrderedJson::array({e.message});
  e.tb = {"Traceback (most recent call last):\n",
          "  File \"zun-agent\", in dispatch\n",
          absl::StrCat("oslo_messaging.rpc.dispatcher.UnsupportedVersion: ",
                       e.message, "\n")};
  return e;
}

RemoteError ZunError(std::string_view cls, std::string_view message, int code,
                     OrderedJson extra) {
  RemoteError e;
  e.cls = std::string(cls);
  e.module = "zun.common.exception";
  e.message = std::string(message);
  e.args = OrderedJson::array({e.message});
  e.kwargs = std::move(extra);
  e.kwargs["code"] = code;
  e.tb = {
      "Traceback (most recent call last):\n",
      "  File \"zun-agent\", in dispatch\n",
      absl::StrCat("zun.common.exception.", AV(cls), ": ", AV(message), "\n")};
  return e;
}

std::string EncodeFailure(const RemoteError& e) {
  OrderedJson j = OrderedJson::object();
  j["class"] = e.cls;
  j["module"] = e.module;
  j["message"] = e.message;
  j["tb"] = e.tb;
  j["args"] = e.args;
  j["kwargs"] = e.kwargs;
  return PyDumps(j);
}

std::string EncodeReply(std::string_view msg_id, std::string_view unique_id,
                        const OrderedJson& result, const RemoteError* failure,
                        bool ending) {
  OrderedJson inner = OrderedJson::object();
  inner["result"] = failure ? OrderedJson() : result;
  inner["failure"] =
      failure ? OrderedJson(EncodeFailure(*failure)) : OrderedJson();
  inner["ending"] = ending;
  inner["_msg_id"] = std::string(msg_id);
  inner["_unique_id"] = std::string(unique_id);
  OrderedJson outer = OrderedJson::object();
  outer["oslo.version"] = "2.0";
  outer["oslo.message"] = PyDumps(inner);
  return PyDumps(outer);
}

std::string EncodeRequest(const OutgoingRequest& r) {
  OrderedJson inner = OrderedJson::object();
  inner["method"] = r.method;
  inner["args"] = r.args;
  if (r.msg_id) {
    inner["_msg_id"] = *r.msg_id;
    inner["_reply_q"] = r.reply_q.value_or("");
    inner["_timeout"] = nullptr;
  }
  inner["_unique_id"] = r.unique_id;
  for (const auto& [k, v] : r.context.items()) {
    inner[absl::StrCat(AV(kContextPrefix), k)] = v;
  }
  OrderedJson outer = OrderedJson::object();
  outer["oslo.version"] = "2.0";
  outer["oslo.message"] = PyDumps(inner);
  return PyDumps(outer);
}

}  // namespace zun::rpc
