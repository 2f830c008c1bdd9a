// File: amqp_probe.h
// A raw AMQP client for tests that must send what no well-behaved oslo
// client would (malformed bodies, duplicate _unique_ids, calls whose reply
// queue is gone) and read replies byte for byte.
#pragma once

#include <functional>
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
  // Bodies delivered to the reply queue until `enough` holds for them (or
  // `max` passed), and then during `settle` (for extra replies that must
  // not come: a slow machine delays what is expected, not what is not).
  std::vector<std::string> ReadReplies(
      absl::Duration max,
      const std::function<bool(const std::vector<std::string>&)>& enough,
      absl::Duration settle = absl::Milliseconds(500));
  // Until `n` bodies came (or `max` passed), then during `settle`.
  std::vector<std::string> ReadReplies(
      absl::Duration max, size_t n,
      absl::Duration settle = absl::Milliseconds(500));

 private:
  std::unique_ptr<rpc::AmqpConnection> conn_;
};

}  // namespace zun::testing
