// File: daemon_http.h
// zun-cni-daemon's HTTP endpoint (civetweb), upstream's API plus ours:
//   POST /addNetwork    CniDaemon::Add   (202 + VIF, 400/500/504)
//   POST /delNetwork    CniDaemon::Del   (204, 400/500)
//   POST /checkNetwork  CniDaemon::Check (204, 400/500)
//   GET  /healthz       200 {"status": "ok"} when the database answers,
//                       else 503 {"status": "failing", "reason": ...}
// Bodies are JSON (Content-Type: application/json); a request body over
// 1 MiB or not a JSON object is refused with 400. Everything else is 404
// or 405.
//
// Thread-safe; the daemon must outlive the server.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cni/cni_daemon.h"

class CivetServer;

namespace zun::cni {

class DaemonHttpServer {
 public:
  // Listens on host:port (port 0 picks a free one); `health` answers
  // /healthz. UNAVAILABLE when it cannot listen.
  static absl::StatusOr<std::unique_ptr<DaemonHttpServer>> Start(
      const std::string& host, int port, int threads, CniDaemon& daemon,
      std::function<absl::Status()> health);
  ~DaemonHttpServer();

  int port() const { return port_; }

 private:
  class Handler;
  DaemonHttpServer() = default;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

}  // namespace zun::cni
