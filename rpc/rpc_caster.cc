#include "rpc/rpc_caster.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/uuid.h"

namespace zun::rpc {

RpcCaster::RpcCaster(CasterOptions options) : options_(std::move(options)) {}

absl::Status RpcCaster::Cast(const std::string& server,
                             const std::string& method, OrderedJson args,
                             OrderedJson context) {
  return CastMany(server, {Message{method, std::move(args)}}, context);
}

absl::Status RpcCaster::CastMany(const std::string& server,
                                 const std::vector<Message>& messages,
                                 const OrderedJson& context,
                                 const std::function<void(size_t)>& on_sent) {
  std::vector<std::string> bodies;
  bodies.reserve(messages.size());
  for (const Message& m : messages) {
    OutgoingRequest r;
    r.method = m.method;
    r.args = m.args;
    r.context = context;
    r.unique_id = NewUuid4Hex();
    bodies.push_back(EncodeRequest(r));
  }
  const std::string routing_key = absl::StrCat(options_.topic, ".", server);
  if (options_.url.hosts.empty()) {
    return absl::InvalidArgumentError("the transport URL names no host");
  }
  absl::Status last;
  for (const AmqpHost& host : options_.url.hosts) {
    last = CastVia(host, routing_key, bodies, on_sent);
    // Only a broker we could not use is worth trying the next one for.
    if (last.ok() || last.code() != absl::StatusCode::kUnavailable) {
      return last;
    }
  }
  return last;
}

absl::Status RpcCaster::CastVia(const AmqpHost& host,
                                const std::string& routing_key,
                                const std::vector<std::string>& bodies,
                                const std::function<void(size_t)>& on_sent) {
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
  // oslo's client declares the exchange (a topic exchange, durable in the
  // durable modes) before sending.
  if (absl::Status s = c.DeclareExchange(
          kChannel, ExchangeSpec{options_.control_exchange, "topic",
                                 options_.durable, false});
      !s.ok()) {
    return s;
  }
  PublishProps props;
  props.delivery_mode = 2;
  uint64_t acked = 0;
  bool returned = false;
  // Confirms are cumulative when `multiple`; delivery tags count from 1.
  auto handle = [&](const AmqpEvent& ev) -> absl::Status {
    switch (ev.kind) {
      case AmqpEvent::Kind::kReturn:
        returned = true;  // its ack follows
        return absl::OkStatus();
      case AmqpEvent::Kind::kPublishAck:
        acked =
            ev.multiple ? ev.delivery_tag : std::max(acked, ev.delivery_tag);
        return absl::OkStatus();
      case AmqpEvent::Kind::kPublishNack:
        return absl::UnavailableError("the broker refused a message");
      case AmqpEvent::Kind::kChannelClosed:
      case AmqpEvent::Kind::kConnectionClosed:
        return absl::UnavailableError(
            absl::StrCat("the broker closed the channel: ", ev.reply_code, " ",
                         ev.reply_text));
      default:
        return absl::OkStatus();
    }
  };
  for (size_t i = 0; i < bodies.size(); ++i) {
    if (on_sent) on_sent(i);
    if (absl::Status s =
            c.Publish(kChannel, options_.control_exchange, routing_key,
                      /*mandatory=*/true, bodies[i], props);
        !s.ok()) {
      return s;
    }
    // Drain confirms already here, so the socket buffers never fill.
    for (;;) {
      absl::StatusOr<AmqpEvent> ev = c.Read(absl::ZeroDuration());
      if (!ev.ok()) return ev.status();
      if (ev->kind == AmqpEvent::Kind::kNone) break;
      if (absl::Status s = handle(*ev); !s.ok()) return s;
    }
  }
  const absl::Time deadline = absl::Now() + options_.timeout;
  while (acked < bodies.size()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("no publish confirm from the broker");
    }
    absl::StatusOr<AmqpEvent> ev = c.Read(deadline - absl::Now());
    if (!ev.ok()) return ev.status();
    if (absl::Status s = handle(*ev); !s.ok()) return s;
  }
  c.Close();
  if (returned) {
    return absl::NotFoundError(absl::StrCat(
        "no queue is bound for '", routing_key, "' on exchange '",
        options_.control_exchange, "': no agent has ever served that host"));
  }
  return absl::OkStatus();
}

}  // namespace zun::rpc
