#include "observe/status_server.h"

#include <exception>
#include <string_view>
#include <vector>

#include "CivetServer.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"

namespace zun::observe {
namespace {

// "HOST:PORT", "[V6]:PORT" or "PORT" with a numeric port: nothing civetweb
// would read as a list, an SSL or a redirect port.
absl::Status ValidateListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  const std::string_view port =
      colon == std::string::npos ? std::string_view(listen)
                                 : std::string_view(listen).substr(colon + 1);
  uint32_t n = 0;
  bool digits = !port.empty();
  for (char c : port) digits = digits && absl::ascii_isdigit(c);
  if (!digits || !absl::SimpleAtoi(AV(port), &n) || n > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_listen '", listen,
                     "': expected HOST:PORT, [V6]:PORT or PORT"));
  }
  const std::string_view host = colon == std::string::npos
                                    ? ""
                                    : std::string_view(listen).substr(0, colon);
  for (char c : host) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == ':' || c == '[' ||
          c == ']' || c == '-')) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics_listen '", listen, "': bad host"));
    }
  }
  return absl::OkStatus();
}

void Send(mg_connection* conn, int code, std::string_view reason,
          std::string_view type, const std::string& body, bool head) {
  mg_printf(conn,
            "HTTP/1.1 %d %.*s\r\nContent-Type: %.*s\r\nContent-Length: "
            "%zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
            code, static_cast<int>(reason.size()), reason.data(),
            static_cast<int>(type.size()), type.data(), body.size());
  if (!head) mg_write(conn, body.data(), body.size());
}

}  // namespace

class StatusServer::Handler : public CivetHandler {
 public:
  enum class Page { kMetrics, kHealth };
  Handler(Page page, AgentMetrics& metrics, HealthMonitor& health, Clock& clock)
      : page_(page), metrics_(metrics), health_(health), clock_(clock) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    Serve(conn, false);
    return true;
  }
  bool handleHead(CivetServer*, mg_connection* conn) override {
    Serve(conn, true);
    return true;
  }
  bool handlePost(CivetServer*, mg_connection* conn) override {
    return NotAllowed(conn);
  }
  bool handlePut(CivetServer*, mg_connection* conn) override {
    return NotAllowed(conn);
  }
  bool handleDelete(CivetServer*, mg_connection* conn) override {
    return NotAllowed(conn);
  }
  bool handlePatch(CivetServer*, mg_connection* conn) override {
    return NotAllowed(conn);
  }
  bool handleOptions(CivetServer*, mg_connection* conn) override {
    return NotAllowed(conn);
  }

 private:
  static bool NotAllowed(mg_connection* conn) {
    Send(conn, 405, "Method Not Allowed", "text/plain", "only GET and HEAD\n",
         false);
    return true;
  }

  void Serve(mg_connection* conn, bool head) {
    try {
      if (page_ == Page::kMetrics) {
        Send(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
             metrics_.Render(), head);
        return;
      }
      const HealthReport r = health_.Current();
      Send(conn, r.healthy ? 200 : 503,
           r.healthy ? "OK" : "Service Unavailable", "application/json",
           r.ToJson(clock_.Now()), head);
    } catch (const std::exception& e) {
      // Never let an exception cross into civetweb's C threads.
      ZUN_LOG(kMain, error, "status page failed: {}", e.what());
      Send(conn, 500, "Internal Server Error", "text/plain", "error\n", head);
    }
  }

  const Page page_;
  AgentMetrics& metrics_;
  HealthMonitor& health_;
  Clock& clock_;
};

absl::StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(
    const std::string& listen, AgentMetrics& metrics, HealthMonitor& health,
    Clock& clock) {
  if (absl::Status s = ValidateListen(listen); !s.ok()) return s;
  std::unique_ptr<StatusServer> server(new StatusServer());
  const std::vector<std::string> options = {
      "listening_ports",          listen,  "num_threads",       "2",
      "request_timeout_ms",       "10000", "enable_keep_alive", "no",
      "enable_directory_listing", "no",    "decode_url",        "yes"};
  try {
    server->server_ = std::make_unique<CivetServer>(options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, ": ", e.what()));
  }
  server->metrics_handler_ = std::make_unique<Handler>(Handler::Page::kMetrics,
                                                       metrics, health, clock);
  server->health_handler_ =
      std::make_unique<Handler>(Handler::Page::kHealth, metrics, health, clock);
  server->server_->addHandler("/metrics$", server->metrics_handler_.get());
  server->server_->addHandler("/healthz$", server->health_handler_.get());
  const std::vector<int> ports = server->server_->getListeningPorts();
  if (!ports.empty()) server->port_ = ports.front();
  return server;
}

StatusServer::~StatusServer() {
  if (server_) server_->close();
}

}  // namespace zun::observe
