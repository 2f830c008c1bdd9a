// File: status_server.h
// The agent's HTTP endpoint ([DEFAULT] metrics_listen), served by civetweb:
//   GET /metrics  Prometheus text format (AgentMetrics::Render)
//   GET /healthz  200 {"status": "ok", ...} when the bus, the database and
//                 the runtime answer, else 503 with the failing checks
// Anything else is 404; methods other than GET/HEAD are 405. The server has
// a small fixed pool of threads and a request timeout, and serves nothing
// but these two read-only pages.
//
// Thread-safe; the metrics and health monitor must outlive it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "observe/health.h"
#include "observe/metrics.h"

class CivetServer;

namespace zun::observe {

class StatusServer {
 public:
  // Listens on `listen` ("HOST:PORT", "[V6]:PORT" or "PORT"; port 0 picks a
  // free one). INVALID_ARGUMENT for a malformed address, UNAVAILABLE if it
  // cannot listen.
  static absl::StatusOr<std::unique_ptr<StatusServer>> Start(
      const std::string& listen, AgentMetrics& metrics, HealthMonitor& health,
      Clock& clock);
  ~StatusServer();

  int port() const { return port_; }

 private:
  class Handler;
  StatusServer() = default;
  std::unique_ptr<Handler> metrics_handler_;
  std::unique_ptr<Handler> health_handler_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

}  // namespace zun::observe
