// File: transport_url.h
// oslo.messaging's transport_url for RabbitMQ:
//   rabbit://user:pass@host1:5672,user2:pass2@host2:5672/vhost?ssl=1
// User, password and vhost are percent-decoded; an empty vhost is "/";
// a host without credentials inherits those of the previous host. Schemes:
// rabbit, amqp (plain) and amqps (TLS). Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace zun::rpc {

struct AmqpHost {
  std::string host;
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
};

struct TransportUrl {
  std::vector<AmqpHost> hosts;
  std::string vhost = "/";
  bool ssl = false;
  std::map<std::string, std::string> query;
};

absl::StatusOr<TransportUrl> ParseTransportUrl(const std::string& url);

}  // namespace zun::rpc
