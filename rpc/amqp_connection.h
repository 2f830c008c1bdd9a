// File: amqp_connection.h
// A thin, status-returning wrapper over one rabbitmq-c connection: open
// (plain or TLS) with a connect deadline, login (PLAIN), channels, declares,
// consume, publish, ack/reject, and reading of every frame the server may
// send (deliveries, publisher confirms, returns, channel/connection close,
// consumer cancel). Every synchronous AMQP method is bounded by the RPC
// timeout; reads by the caller's timeout. rabbit-c types stay in rpc/.
//
// Not thread-safe (rabbit-c connections are not): one owner thread uses it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/transport_url.h"

namespace zun::rpc {

struct AmqpTlsOptions {
  bool enabled = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool verify_peer = true;
  bool verify_hostname = true;
};

struct AmqpConnectOptions {
  AmqpHost host;
  std::string vhost = "/";
  AmqpTlsOptions tls;
  int heartbeat_seconds = 60;
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration rpc_timeout = absl::Seconds(10);
  std::string connection_name;  // shown by rabbitmqctl list_connections
};

// Queue/exchange argument values (AMQP field table entries).
using AmqpArg = std::variant<int32_t, int64_t, bool, std::string>;
using AmqpArgs = std::map<std::string, AmqpArg>;

struct ExchangeSpec {
  std::string name;
  std::string type;  // "topic", "fanout", "direct"
  bool durable = false;
  bool auto_delete = false;
};

struct QueueSpec {
  std::string name;
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  AmqpArgs args;
};

struct PublishProps {
  std::string content_type = "application/json";
  std::string content_encoding = "utf-8";
  uint8_t delivery_mode = 2;
  uint8_t priority = 0;
  std::string expiration;  // "" = none
};

struct AmqpEvent {
  enum class Kind {
    kNone,        // nothing arrived before the timeout
    kDelivery,    // a message from a consumer
    kPublishAck,  // publisher confirm
    kPublishNack,
    kReturn,             // mandatory publish that could not be routed
    kChannelClosed,      // by the server (e.g. 406 PRECONDITION_FAILED)
    kConnectionClosed,   // by the server
    kConsumerCancelled,  // e.g. the queue was deleted
    kOther,              // a frame we do not act on
  };
  Kind kind = Kind::kNone;
  uint16_t channel = 0;
  uint64_t delivery_tag = 0;
  bool multiple = false;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string consumer_tag;
  std::string body;
  int reply_code = 0;
  std::string reply_text;
};

class AmqpConnection {
 public:
  // Connects and logs in. UNAVAILABLE if the broker cannot be reached or the
  // handshake fails, UNAUTHENTICATED for refused credentials,
  // DEADLINE_EXCEEDED if it takes longer than connect_timeout.
  static absl::StatusOr<std::unique_ptr<AmqpConnection>> Open(
      const AmqpConnectOptions& options);
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  absl::Status OpenChannel(uint16_t channel);
  absl::Status ConfirmSelect(uint16_t channel);
  absl::Status Qos(uint16_t channel, uint16_t prefetch_count);
  absl::Status DeclareExchange(uint16_t channel, const ExchangeSpec& spec);
  absl::Status DeclareQueue(uint16_t channel, const QueueSpec& spec);
  absl::Status BindQueue(uint16_t channel, const std::string& queue,
                         const std::string& exchange,
                         const std::string& routing_key);
  absl::Status DeleteQueue(uint16_t channel, const std::string& queue);
  // Starts a consumer (no_ack = false); returns the consumer tag.
  absl::StatusOr<std::string> Consume(uint16_t channel,
                                      const std::string& queue,
                                      const std::string& consumer_tag);
  absl::Status Publish(uint16_t channel, const std::string& exchange,
                       const std::string& routing_key, bool mandatory,
                       const std::string& body, const PublishProps& props);
  absl::Status Ack(uint16_t channel, uint64_t delivery_tag);
  absl::Status Reject(uint16_t channel, uint64_t delivery_tag, bool requeue);

  // Reads the next event, waiting up to `timeout` (zero: only what is
  // already buffered or readable). Also services AMQP heartbeats, so the
  // owner must call it at least every heartbeat/2 seconds. A non-OK status
  // means the connection is unusable.
  absl::StatusOr<AmqpEvent> Read(absl::Duration timeout);

  // True if frames are buffered inside rabbit-c (poll() on fd() would not
  // show them).
  bool HasBufferedInput() const;
  int fd() const;
  // Sends connection.close (bounded by the RPC timeout). Idempotent.
  void Close();

 private:
  struct State;
  explicit AmqpConnection(std::unique_ptr<State> state);
  absl::Status CheckReply(const char* what);
  std::unique_ptr<State> s_;
};

}  // namespace zun::rpc
