#include "rpc/rpc_caster.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/uuid.h"

namespace zun::rpc {

RpcCaster::RpcCaster(CasterOptions options) : options_(std::move(options)) {}

absl::Status RpcCaster::Cast(const std::string& server,
                             const std::string& method, OrderedJson args,
                             OrderedJson context) {
  OutgoingRequest r;
  r.method = method;
  r.args = std::move(args);
  r.context = std::move(context);
  r.unique_id = NewUuid4Hex();
  const std::string body = EncodeRequest(r);
  const std::string routing_key = absl::StrCat(options_.topic, ".", server);
  if (options_.url.hosts.empty()) {
    return absl::InvalidArgumentError("the transport URL names no host");
  }
  absl::Status last;
  for (const AmqpHost& host : options_.url.hosts) {
    last = CastVia(host, routing_key, body);
    // Only a broker we could not use is worth trying the next one for.
    if (last.ok() || last.code() != absl::StatusCode::kUnavailable) {
      return last;
    }
  }
  return last;
}

absl::Status RpcCaster::CastVia(const AmqpHost& host,
                                const std::string& routing_key,
                                const std::string& body) {
  AmqpConnectOptions co;
  co.host = host;
  co.vhost = options_.url.vhost;
  co.tls = options_.tls;
  co.tls.enabled = options_.tls.enabled || options_.url.ssl;
  co.connect_timeout = options_.timeout;
  co.rpc_timeout = options_.timeout;
  co.connection_name = absl::StrCat("zun-capsule:", getpid());
  absl::StatusOr<std::unique_ptr<AmqpConnection>> conn =
      AmqpConnection::Open(co);
  if (!conn.ok()) return conn.status();
  AmqpConnection& c = **conn;
  constexpr uint16_t kChannel = 1;
  if (absl::Status s = c.OpenChannel(kChannel); !s.ok()) return s;
  if (absl::Status s = c.ConfirmSelect(kChannel); !s.ok()) return s;
  // oslo's client declares the exchange (non-durable topic) before sending.
  if (absl::Status s = c.DeclareExchange(
          kChannel,
          ExchangeSpec{options_.control_exchange, "topic", false, false});
      !s.ok()) {
    return s;
  }
  PublishProps props;
  props.delivery_mode = 2;
  if (absl::Status s = c.Publish(kChannel, options_.control_exchange,
                                 routing_key, /*mandatory=*/true, body, props);
      !s.ok()) {
    return s;
  }
  const absl::Time deadline = absl::Now() + options_.timeout;
  bool returned = false;
  while (absl::Now() < deadline) {
    absl::StatusOr<AmqpEvent> ev = c.Read(deadline - absl::Now());
    if (!ev.ok()) return ev.status();
    switch (ev->kind) {
      case AmqpEvent::Kind::kReturn:
        returned = true;  // the ack follows a return
        break;
      case AmqpEvent::Kind::kPublishAck:
        c.Close();
        if (returned) {
          return absl::NotFoundError(
              absl::StrCat("no queue is bound for '", routing_key,
                           "' on exchange '", options_.control_exchange,
                           "': no agent has ever served that host"));
        }
        return absl::OkStatus();
      case AmqpEvent::Kind::kPublishNack:
        return absl::UnavailableError("the broker refused the message");
      case AmqpEvent::Kind::kChannelClosed:
      case AmqpEvent::Kind::kConnectionClosed:
        return absl::UnavailableError(
            absl::StrCat("the broker closed the channel: ", ev->reply_code, " ",
                         ev->reply_text));
      default:
        break;
    }
  }
  return absl::DeadlineExceededError("no publish confirm from the broker");
}

}  // namespace zun::rpc
