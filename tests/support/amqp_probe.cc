#include "tests/support/amqp_probe.h"

#include "common/uuid.h"
#include "rpc/transport_url.h"

namespace zun::testing {

absl::StatusOr<std::unique_ptr<AmqpProbe>> AmqpProbe::Connect(
    const std::string& url) {
  absl::StatusOr<rpc::TransportUrl> u = rpc::ParseTransportUrl(url);
  if (!u.ok()) return u.status();
  rpc::AmqpConnectOptions o;
  o.host = u->hosts[0];
  o.vhost = u->vhost;
  o.connection_name = "zun-agent-test-probe";
  auto c = rpc::AmqpConnection::Open(o);
  if (!c.ok()) return c.status();
  auto p = std::unique_ptr<AmqpProbe>(new AmqpProbe());
  p->conn_ = *std::move(c);
  if (absl::Status s = p->conn_->OpenChannel(1); !s.ok()) return s;
  return p;
}

absl::Status AmqpProbe::Publish(const std::string& exchange,
                                const std::string& routing_key,
                                const std::string& body) {
  return conn_->Publish(1, exchange, routing_key, false, body,
                        rpc::PublishProps{});
}

absl::StatusOr<std::string> AmqpProbe::ReplyQueue() {
  const std::string name = "reply_" + NewUuid4Hex();
  rpc::QueueSpec q{name, false, false, false, {{"x-expires", int32_t{60000}}}};
  if (absl::Status s = conn_->DeclareQueue(1, q); !s.ok()) return s;
  auto tag = conn_->Consume(1, name, "");
  if (!tag.ok()) return tag.status();
  return name;
}

std::vector<std::string> AmqpProbe::ReadReplies(absl::Duration wait) {
  return ReadReplies(
      wait, [](const std::vector<std::string>&) { return false; },
      absl::ZeroDuration());
}

std::vector<std::string> AmqpProbe::ReadReplies(absl::Duration max, size_t n,
                                                absl::Duration settle) {
  return ReadReplies(
      max, [n](const std::vector<std::string>& got) { return got.size() >= n; },
      settle);
}

std::vector<std::string> AmqpProbe::ReadReplies(
    absl::Duration max,
    const std::function<bool(const std::vector<std::string>&)>& enough,
    absl::Duration settle) {
  std::vector<std::string> out;
  absl::Time deadline = absl::Now() + max;
  bool settling = false;
  while (absl::Now() < deadline) {
    if (!settling && enough(out)) {
      settling = true;
      deadline = std::min(deadline, absl::Now() + settle);
      continue;
    }
    auto ev = conn_->Read(absl::Milliseconds(50));
    if (!ev.ok()) break;
    if (ev->kind == rpc::AmqpEvent::Kind::kDelivery) {
      out.push_back(ev->body);
      conn_->Ack(1, ev->delivery_tag).IgnoreError();
    }
  }
  return out;
}

}  // namespace zun::testing
