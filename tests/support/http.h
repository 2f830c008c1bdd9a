// File: http.h
// A minimal HTTP/1.1 client for tests of the agent's status endpoint (one
// request per connection, Connection: close), and a free TCP port finder.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zun::testing {

struct HttpResponse {
  int status = 0;
  std::string headers;  // raw header block
  std::string body;
};

// Sends `method path` to `ipv4`:`port` and reads the whole response.
absl::StatusOr<HttpResponse> HttpRequestTo(
    const std::string& ipv4, int port, const std::string& method,
    const std::string& path, absl::Duration timeout = absl::Seconds(10));
// The same to 127.0.0.1.
absl::StatusOr<HttpResponse> HttpRequest(
    int port, const std::string& method, const std::string& path,
    absl::Duration timeout = absl::Seconds(10));

// A TCP port on 127.0.0.1 that was free a moment ago, for a child to
// listen on. Taken from 27000-32767: below the kernel's ephemeral range
// (32768-60999), so that no outgoing connection's local port takes it
// between this look and the child's bind (tens of agents starting at once
// open hundreds of connections), and above the fixed ports of our scripts
// (Keystone, Placement and Neutron at 21500-22000, RabbitMQ's
// distribution ports at its AMQP port + 20000). Thread-safe.
int FreeTcpPort();

// The value of `series` ("name" or "name{labels}", as exposed) in a
// Prometheus text exposition, or -1 if it has none.
double MetricIn(const std::string& text, const std::string& series);
// The same, from GET /metrics on 127.0.0.1:`port` (-1 if unreachable).
double MetricOf(int port, const std::string& series);

}  // namespace zun::testing
