// File: oslo_codec.h
// The oslo.messaging wire format (../shared/spec/oslo-messaging-wire.md §4):
// decoding of request envelopes into IncomingMessage, and encoding of
// replies and failures byte for byte as oslo.messaging 14-18 does.
// Pure functions; thread-safe.
//
// Request body:  {"oslo.version": "2.0", "oslo.message": "<JSON string>"}
// (a body without the envelope is a legacy 1.0 message and is the message
// itself). The inner message holds method, args, optional version and
// namespace, _unique_id, _msg_id/_reply_q/_timeout for calls and the
// context flattened as _context_<key>.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "rpc/py_json.h"

namespace zun::rpc {

// The caller's request context (Zun's RequestContext.to_dict()).
struct RequestContext {
  std::string request_id;
  std::string global_request_id;
  std::string user_id;
  std::string user_name;
  std::string project_id;
  std::string project_name;
  std::vector<std::string> roles;
  bool is_admin = false;
  // Every _context_ key with the prefix stripped (auth_token included: never
  // log this).
  nlohmann::json raw = nlohmann::json::object();
};

struct IncomingMessage {
  std::string method;
  nlohmann::json args = nlohmann::json::object();
  std::string version = "1.0";  // absent means 1.0
  std::string ns;               // absent or null means none
  RequestContext context;
  std::string unique_id;               // "" if the sender set none
  std::optional<std::string> msg_id;   // set for calls
  std::optional<std::string> reply_q;  // set for calls
  std::optional<double> timeout;       // call-monitor timeout, seconds
  bool is_call() const { return msg_id.has_value(); }
};

struct DecodeLimits {
  size_t max_body_bytes = 4 << 20;
  int max_depth = 64;  // nesting of arrays/objects, per JSON layer
};

// Decodes one AMQP body. Errors (all INVALID_ARGUMENT unless noted):
// RESOURCE_EXHAUSTED for a body over the size limit or nested too deep;
// not JSON or not UTF-8; unsupported envelope version; missing or mistyped
// method/args/_msg_id/_reply_q/_timeout/_unique_id.
absl::StatusOr<IncomingMessage> DecodeMessage(std::string_view body,
                                              const DecodeLimits& limits);

// The deepest nesting of arrays/objects in `json_text` (strings skipped),
// stopping early once `limit` is exceeded. Used to refuse hostile input
// before parsing.
int JsonDepth(std::string_view json_text, int limit);

// A failure as oslo serialises it (class, module, message, tb, args,
// kwargs). The Python client re-raises module.class(*args, **kwargs) when
// the module is allowed (zun.common.exception), else RemoteError.
struct RemoteError {
  std::string cls;
  std::string module;
  std::string message;
  std::vector<std::string> tb;
  OrderedJson args = OrderedJson::array();
  OrderedJson kwargs = OrderedJson::object();
};

// oslo_messaging.rpc.dispatcher.NoSuchMethod for `method`.
RemoteError NoSuchMethod(std::string_view method);
// oslo_messaging.rpc.dispatcher.UnsupportedVersion.
RemoteError UnsupportedVersion(std::string_view version,
                               std::string_view method);
// A zun.common.exception error of class `cls` with HTTP `code`; `extra`
// kwargs are added before "code" (as Zun's exceptions carry them).
RemoteError ZunError(std::string_view cls, std::string_view message, int code,
                     OrderedJson extra = OrderedJson::object());

// The failure JSON string (the value of the reply's "failure" key).
std::string EncodeFailure(const RemoteError& e);

// A complete reply body: the 2.0 envelope around
// {"result", "failure", "ending", "_msg_id", "_unique_id"}.
std::string EncodeReply(std::string_view msg_id, std::string_view unique_id,
                        const OrderedJson& result, const RemoteError* failure,
                        bool ending);

// A request body as oslo's client builds it (for zun-capsule and tests):
// method, args, [version], [_msg_id, _reply_q, _timeout], _unique_id, then
// the context keys.
struct OutgoingRequest {
  std::string method;
  OrderedJson args = OrderedJson::object();
  OrderedJson context = OrderedJson::object();  // keys without the prefix
  std::string unique_id;
  std::optional<std::string> msg_id;
  std::optional<std::string> reply_q;
};
std::string EncodeRequest(const OutgoingRequest& r);

}  // namespace zun::rpc
