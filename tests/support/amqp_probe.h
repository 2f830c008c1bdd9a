// File: amqp_probe.h
// A raw AMQP client for tests that must send what no well-behaved oslo
// client would (malformed bodies, duplicate _unique_ids, calls whose reply
// queue is gone) and read replies byte for byte.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/amqp_connection.h"

namespace zun::testing {

class AmqpProbe {
 public:
  static absl::StatusOr<std::unique_ptr<AmqpProbe>> Connect(
      const std::string& url);

  absl::Status Publish(const std::string& exchange,
                       const std::string& routing_key, const std::string& body);
  // Declares an oslo-style reply queue (reply_<hex>, x-expires) and consumes
  // it; returns its name.
  absl::StatusOr<std::string> ReplyQueue();
  // Bodies delivered to the reply queue during `wait`.
  std::vector<std::string> ReadReplies(absl::Duration wait);

 private:
  std::unique_ptr<rpc::AmqpConnection> conn_;
};

}  // namespace zun::testing
