// File: rpc_caster.h
// The client side of an oslo.messaging cast, as the Zun API/conductor sends
// one to zun-compute: declares the control exchange as oslo does, then
// publishes the request to "<topic>.<server>" on a confirm channel and
// waits for the broker's confirm. Used by zun-capsule and tests.
//
// Tries the transport URL's hosts in order. Errors: UNAVAILABLE (no broker
// reachable, or the connection broke), NOT_FOUND (nothing consumes the
// server's queue: no agent ever ran for that host), DEADLINE_EXCEEDED (no
// confirm in time). Each Cast() uses a fresh connection and closes it.
//
// Thread-compatible: one caster per thread.
// Timeouts: `timeout` bounds the connect, each declare, and the wait for
// the confirms after the last publish.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rpc/amqp_connection.h"
#include "rpc/oslo_codec.h"
#include "rpc/transport_url.h"

namespace zun::rpc {

struct CasterOptions {
  TransportUrl url;
  AmqpTlsOptions tls;
  std::string control_exchange = "zun";
  std::string topic = "zun-compute";
  // [oslo_messaging_rabbit] amqp_durable_queues or rabbit_quorum_queue:
  // oslo declares the control exchange durable then, and a broker refuses
  // a declaration that differs from the exchange it has.
  bool durable = false;
  absl::Duration timeout = absl::Seconds(10);  // connect, declare, confirm
};

class RpcCaster {
 public:
  explicit RpcCaster(CasterOptions options);

  // Casts `method(args)` to `server` with `context` (request_id, user_id,
  // project_id, roles, ...; keys without the "_context_" prefix).
  absl::Status Cast(const std::string& server, const std::string& method,
                    OrderedJson args, OrderedJson context);

  struct Message {
    std::string method;
    OrderedJson args;
  };
  // Casts every message to `server` over one connection, in order, and
  // waits for all confirms (the first broker tried that works). `on_sent`
  // (optional) runs right before each publish, e.g. to time it.
  absl::Status CastMany(const std::string& server,
                        const std::vector<Message>& messages,
                        const OrderedJson& context,
                        const std::function<void(size_t)>& on_sent = {});

 private:
  absl::Status CastVia(const AmqpHost& host, const std::string& routing_key,
                       const std::vector<std::string>& bodies,
                       const std::function<void(size_t)>& on_sent);
  const CasterOptions options_;
};

}  // namespace zun::rpc
