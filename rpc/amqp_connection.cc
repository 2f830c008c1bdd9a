#include "rpc/amqp_connection.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace zun::rpc {
namespace {

timeval Tv(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(absl::ToInt64Seconds(d));
  tv.tv_usec = static_cast<suseconds_t>(
      absl::ToInt64Microseconds(d - absl::Seconds(tv.tv_sec)));
  return tv;
}

std::string Bytes(const amqp_bytes_t& b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

amqp_bytes_t B(const std::string& s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

// Builds an amqp_table_t over `args`; the entries point into `args` and
// `storage`, which must outlive the table's use.
amqp_table_t MakeTable(const AmqpArgs& args,
                       std::vector<amqp_table_entry_t>* storage) {
  storage->clear();
  for (const auto& [k, v] : args) {
    amqp_table_entry_t e{};
    e.key = B(k);
    if (const auto* i32 = std::get_if<int32_t>(&v)) {
      e.value.kind = AMQP_FIELD_KIND_I32;
      e.value.value.i32 = *i32;
    } else if (const auto* i64 = std::get_if<int64_t>(&v)) {
      e.value.kind = AMQP_FIELD_KIND_I64;
      e.value.value.i64 = *i64;
    } else if (const auto* b = std::get_if<bool>(&v)) {
      e.value.kind = AMQP_FIELD_KIND_BOOLEAN;
      e.value.value.boolean = *b ? 1 : 0;
    } else {
      e.value.kind = AMQP_FIELD_KIND_UTF8;
      e.value.value.bytes = B(std::get<std::string>(v));
    }
    storage->push_back(e);
  }
  amqp_table_t t;
  t.num_entries = static_cast<int>(storage->size());
  t.entries = storage->empty() ? nullptr : storage->data();
  return t;
}

absl::Status ReplyToStatus(const amqp_rpc_reply_t& r, const char* what) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return absl::OkStatus();
    case AMQP_RESPONSE_NONE:
      return absl::UnavailableError(absl::StrCat(what, ": missing RPC reply"));
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      if (r.library_error == AMQP_STATUS_TIMEOUT) {
        return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
      }
      return absl::UnavailableError(
          absl::StrCat(what, ": ", amqp_error_string2(r.library_error)));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        const std::string text = Bytes(m->reply_text);
        if (m->reply_code == 403 || m->reply_code == 530) {
          return absl::UnauthenticatedError(absl::StrCat(
              what, ": server closed the connection: ", m->reply_code, " ",
              text));
        }
        return absl::UnavailableError(absl::StrCat(
            what, ": server closed the connection: ", m->reply_code, " ",
            text));
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return absl::FailedPreconditionError(
            absl::StrCat(what, ": server closed the channel: ", m->reply_code,
                         " ", Bytes(m->reply_text)));
      }
      return absl::UnavailableError(absl::StrCat(what, ": server exception"));
  }
  return absl::UnknownError(what);
}

}  // namespace

struct AmqpConnection::State {
  amqp_connection_state_t conn = nullptr;
  AmqpConnectOptions options;
  bool closed = false;
};

AmqpConnection::AmqpConnection(std::unique_ptr<State> state)
    : s_(std::move(state)) {}

AmqpConnection::~AmqpConnection() {
  Close();
  if (s_->conn != nullptr) amqp_destroy_connection(s_->conn);
}

absl::StatusOr<std::unique_ptr<AmqpConnection>> AmqpConnection::Open(
    const AmqpConnectOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  state->conn = amqp_new_connection();
  // From here on the destructor frees the connection.
  std::unique_ptr<AmqpConnection> c(new AmqpConnection(std::move(state)));
  c->s_->closed = true;  // nothing to close until login succeeds
  amqp_connection_state_t conn = c->s_->conn;
  const std::string where =
      absl::StrCat("AMQP ", options.host.host, ":", options.host.port);

  amqp_socket_t* sock = options.tls.enabled ? amqp_ssl_socket_new(conn)
                                            : amqp_tcp_socket_new(conn);
  if (sock == nullptr) return absl::InternalError("cannot create AMQP socket");
  if (options.tls.enabled) {
    amqp_ssl_socket_set_verify_peer(sock, options.tls.verify_peer ? 1 : 0);
    amqp_ssl_socket_set_verify_hostname(sock,
                                        options.tls.verify_hostname ? 1 : 0);
    if (!options.tls.ca_file.empty() &&
        amqp_ssl_socket_set_cacert(sock, options.tls.ca_file.c_str()) !=
            AMQP_STATUS_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load CA file ", options.tls.ca_file));
    }
    if (!options.tls.cert_file.empty() &&
        amqp_ssl_socket_set_key(sock, options.tls.cert_file.c_str(),
                                options.tls.key_file.c_str()) !=
            AMQP_STATUS_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load client certificate ", options.tls.cert_file,
                       " / key ", options.tls.key_file));
    }
  }
  timeval connect_tv = Tv(options.connect_timeout);
  int rc = amqp_socket_open_noblock(sock, options.host.host.c_str(),
                                    options.host.port, &connect_tv);
  if (rc != AMQP_STATUS_OK) {
    if (rc == AMQP_STATUS_TIMEOUT) {
      return absl::DeadlineExceededError(
          absl::StrCat(where, ": connect timed out"));
    }
    return absl::UnavailableError(
        absl::StrCat(where, ": connect failed: ", amqp_error_string2(rc)));
  }
  timeval rpc_tv = Tv(options.rpc_timeout);
  amqp_set_handshake_timeout(conn, &connect_tv);
  amqp_set_rpc_timeout(conn, &rpc_tv);

  std::string product = "zun-agent";
  std::vector<amqp_table_entry_t> props(2);
  props[0].key = amqp_cstring_bytes("product");
  props[0].value.kind = AMQP_FIELD_KIND_UTF8;
  props[0].value.value.bytes = B(product);
  props[1].key = amqp_cstring_bytes("connection_name");
  props[1].value.kind = AMQP_FIELD_KIND_UTF8;
  props[1].value.value.bytes = B(options.connection_name);
  amqp_table_t client_props{static_cast<int>(props.size()), props.data()};
  amqp_rpc_reply_t r = amqp_login_with_properties(
      conn, options.vhost.c_str(), 0, 131072, options.heartbeat_seconds,
      &client_props, AMQP_SASL_METHOD_PLAIN, options.host.user.c_str(),
      options.host.password.c_str());
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      r.library_error == AMQP_STATUS_SOCKET_CLOSED) {
    return absl::UnauthenticatedError(
        absl::StrCat(where, ": login refused for user '", options.host.user,
                     "' on vhost '", options.vhost, "'"));
  }
  if (absl::Status s = ReplyToStatus(r, where.c_str()); !s.ok()) return s;
  c->s_->closed = false;
  return c;
}

absl::Status AmqpConnection::CheckReply(const char* what) {
  return ReplyToStatus(amqp_get_rpc_reply(s_->conn), what);
}

absl::Status AmqpConnection::OpenChannel(uint16_t ch) {
  amqp_channel_open(s_->conn, ch);
  return CheckReply("channel.open");
}

absl::Status AmqpConnection::ConfirmSelect(uint16_t ch) {
  amqp_confirm_select(s_->conn, ch);
  return CheckReply("confirm.select");
}

absl::Status AmqpConnection::Qos(uint16_t ch, uint16_t prefetch) {
  amqp_basic_qos(s_->conn, ch, 0, prefetch, 0);
  return CheckReply("basic.qos");
}

absl::Status AmqpConnection::DeclareExchange(uint16_t ch,
                                             const ExchangeSpec& e) {
  amqp_exchange_declare(s_->conn, ch, B(e.name), B(e.type), 0,
                        e.durable ? 1 : 0, e.auto_delete ? 1 : 0, 0,
                        amqp_empty_table);
  return CheckReply(absl::StrCat("exchange.declare ", e.name).c_str());
}

absl::Status AmqpConnection::DeclareQueue(uint16_t ch, const QueueSpec& q) {
  std::vector<amqp_table_entry_t> storage;
  amqp_table_t args = MakeTable(q.args, &storage);
  amqp_queue_declare(s_->conn, ch, B(q.name), 0, q.durable ? 1 : 0,
                     q.exclusive ? 1 : 0, q.auto_delete ? 1 : 0, args);
  return CheckReply(absl::StrCat("queue.declare ", q.name).c_str());
}

absl::Status AmqpConnection::BindQueue(uint16_t ch, const std::string& queue,
                                       const std::string& exchange,
                                       const std::string& routing_key) {
  amqp_queue_bind(s_->conn, ch, B(queue), B(exchange), B(routing_key),
                  amqp_empty_table);
  return CheckReply(absl::StrCat("queue.bind ", queue).c_str());
}

absl::Status AmqpConnection::DeleteQueue(uint16_t ch,
                                         const std::string& queue) {
  amqp_queue_delete(s_->conn, ch, B(queue), 0, 0);
  return CheckReply(absl::StrCat("queue.delete ", queue).c_str());
}

absl::StatusOr<std::string> AmqpConnection::Consume(
    uint16_t ch, const std::string& queue, const std::string& consumer_tag) {
  amqp_basic_consume_ok_t* ok = amqp_basic_consume(
      s_->conn, ch, B(queue), B(consumer_tag), 0, 0, 0, amqp_empty_table);
  if (absl::Status s =
          CheckReply(absl::StrCat("basic.consume ", queue).c_str());
      !s.ok()) {
    return s;
  }
  return ok != nullptr ? Bytes(ok->consumer_tag) : consumer_tag;
}

absl::Status AmqpConnection::Publish(uint16_t ch, const std::string& exchange,
                                     const std::string& routing_key,
                                     bool mandatory, const std::string& body,
                                     const PublishProps& p) {
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
                 AMQP_BASIC_CONTENT_ENCODING_FLAG |
                 AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG |
                 AMQP_BASIC_HEADERS_FLAG;
  props.content_type = B(p.content_type);
  props.content_encoding = B(p.content_encoding);
  props.delivery_mode = p.delivery_mode;
  props.priority = p.priority;
  props.headers = amqp_empty_table;
  if (!p.expiration.empty()) {
    props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    props.expiration = B(p.expiration);
  }
  int rc = amqp_basic_publish(s_->conn, ch, B(exchange), B(routing_key),
                              mandatory ? 1 : 0, 0, &props, B(body));
  if (rc != AMQP_STATUS_OK) {
    return absl::UnavailableError(
        absl::StrCat("basic.publish: ", amqp_error_string2(rc)));
  }
  return absl::OkStatus();
}

absl::Status AmqpConnection::Ack(uint16_t ch, uint64_t tag) {
  int rc = amqp_basic_ack(s_->conn, ch, tag, 0);
  if (rc != AMQP_STATUS_OK) {
    return absl::UnavailableError(
        absl::StrCat("basic.ack: ", amqp_error_string2(rc)));
  }
  return absl::OkStatus();
}

absl::Status AmqpConnection::Reject(uint16_t ch, uint64_t tag, bool requeue) {
  int rc = amqp_basic_reject(s_->conn, ch, tag, requeue ? 1 : 0);
  if (rc != AMQP_STATUS_OK) {
    return absl::UnavailableError(
        absl::StrCat("basic.reject: ", amqp_error_string2(rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<AmqpEvent> AmqpConnection::Read(absl::Duration timeout) {
  amqp_connection_state_t conn = s_->conn;
  amqp_maybe_release_buffers(conn);
  amqp_envelope_t env;
  timeval tv = Tv(timeout);
  amqp_rpc_reply_t r = amqp_consume_message(conn, &env, &tv, 0);
  AmqpEvent ev;
  if (r.reply_type == AMQP_RESPONSE_NORMAL) {
    ev.kind = AmqpEvent::Kind::kDelivery;
    ev.channel = env.channel;
    ev.delivery_tag = env.delivery_tag;
    ev.redelivered = env.redelivered != 0;
    ev.exchange = Bytes(env.exchange);
    ev.routing_key = Bytes(env.routing_key);
    ev.consumer_tag = Bytes(env.consumer_tag);
    ev.body = Bytes(env.message.body);
    amqp_destroy_envelope(&env);
    return ev;
  }
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      r.library_error == AMQP_STATUS_TIMEOUT) {
    return ev;  // kNone
  }
  if (r.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION ||
      r.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
    return ReplyToStatus(r, "basic.consume");
  }
  // A frame other than a delivery: read it ourselves.
  amqp_frame_t frame;
  int rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
  if (rc == AMQP_STATUS_TIMEOUT) return ev;
  if (rc != AMQP_STATUS_OK) {
    return absl::UnavailableError(
        absl::StrCat("AMQP read: ", amqp_error_string2(rc)));
  }
  ev.channel = frame.channel;
  if (frame.frame_type != AMQP_FRAME_METHOD) {
    ev.kind = AmqpEvent::Kind::kOther;
    return ev;
  }
  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kPublishAck;
      ev.delivery_tag = m->delivery_tag;
      ev.multiple = m->multiple != 0;
      return ev;
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* m = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kPublishNack;
      ev.delivery_tag = m->delivery_tag;
      ev.multiple = m->multiple != 0;
      return ev;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      auto* m = static_cast<amqp_basic_return_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kReturn;
      ev.reply_code = m->reply_code;
      ev.reply_text = Bytes(m->reply_text);
      ev.exchange = Bytes(m->exchange);
      ev.routing_key = Bytes(m->routing_key);
      amqp_message_t msg;
      amqp_rpc_reply_t mr = amqp_read_message(conn, frame.channel, &msg, 0);
      if (mr.reply_type != AMQP_RESPONSE_NORMAL) {
        return ReplyToStatus(mr, "reading a returned message");
      }
      ev.body = Bytes(msg.body);
      amqp_destroy_message(&msg);
      return ev;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* m =
          static_cast<amqp_channel_close_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kChannelClosed;
      ev.reply_code = m->reply_code;
      ev.reply_text = Bytes(m->reply_text);
      amqp_channel_close_ok_t ok{};
      amqp_send_method(conn, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      return ev;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* m =
          static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kConnectionClosed;
      ev.reply_code = m->reply_code;
      ev.reply_text = Bytes(m->reply_text);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      s_->closed = true;
      return ev;
    }
    case AMQP_BASIC_CANCEL_METHOD: {
      auto* m = static_cast<amqp_basic_cancel_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kConsumerCancelled;
      ev.consumer_tag = Bytes(m->consumer_tag);
      return ev;
    }
    default:
      ev.kind = AmqpEvent::Kind::kOther;
      return ev;
  }
}

bool AmqpConnection::HasBufferedInput() const {
  return amqp_frames_enqueued(s_->conn) || amqp_data_in_buffer(s_->conn);
}

int AmqpConnection::fd() const { return amqp_get_sockfd(s_->conn); }

void AmqpConnection::Close() {
  if (s_->closed || s_->conn == nullptr) return;
  s_->closed = true;
  amqp_connection_close(s_->conn, AMQP_REPLY_SUCCESS);
}

}  // namespace zun::rpc
