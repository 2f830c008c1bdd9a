#include "cni/daemon_http.h"

#include <exception>
#include <string_view>
#include <vector>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace zun::cni {

namespace {

constexpr size_t kMaxBody = 1 << 20;

void Send(mg_connection* conn, int code, const nlohmann::json& body) {
  const std::string text =
      body.is_null()
          ? ""
          : body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const char* reason = code < 300   ? "OK"
                       : code < 500 ? "Client Error"
                                    : "Server Error";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
            code, reason, text.size());
  if (!text.empty()) mg_write(conn, text.data(), text.size());
}

}  // namespace

class DaemonHttpServer::Handler : public CivetHandler {
 public:
  Handler(CniDaemon& daemon, std::function<absl::Status()> health)
      : daemon_(daemon), health_(std::move(health)) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    const std::string uri = mg_get_request_info(conn)->local_uri;
    if (uri != "/healthz") {
      Send(conn, 404, {{"reason", "not found"}});
      return true;
    }
    absl::Status s = health_ ? health_() : absl::OkStatus();
    Send(conn, s.ok() ? 200 : 503,
         s.ok() ? nlohmann::json{{"status", "ok"}}
                : nlohmann::json{{"status", "failing"},
                                 {"reason", std::string(s.message())}});
    return true;
  }

  bool handlePost(CivetServer*, mg_connection* conn) override {
    try {
      Serve(conn);
    } catch (const std::exception& e) {
      // Never let an exception cross into civetweb's C threads.
      ZUN_LOG(kMain, error, "CNI request failed: {}", e.what());
      Send(conn, 500, {{"reason", e.what()}});
    }
    return true;
  }

 private:
  void Serve(mg_connection* conn) {
    const std::string uri = mg_get_request_info(conn)->local_uri;
    std::string body;
    char buf[8192];
    for (;;) {
      const int n = mg_read(conn, buf, sizeof buf);
      if (n <= 0) break;
      body.append(buf, static_cast<size_t>(n));
      if (body.size() > kMaxBody) {
        Send(conn, 400, {{"reason", "request body too large"}});
        return;
      }
    }
    nlohmann::json request = nlohmann::json::parse(body, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
      Send(conn, 400, {{"reason", "the request body is not a JSON object"}});
      return;
    }
    DaemonReply r;
    if (uri == "/addNetwork") {
      r = daemon_.Add(request);
    } else if (uri == "/delNetwork") {
      r = daemon_.Del(request);
    } else if (uri == "/checkNetwork") {
      r = daemon_.Check(request);
    } else {
      r = DaemonReply{404, {{"reason", "not found"}}};
    }
    Send(conn, r.status, r.body);
  }

  CniDaemon& daemon_;
  std::function<absl::Status()> health_;
};

absl::StatusOr<std::unique_ptr<DaemonHttpServer>> DaemonHttpServer::Start(
    const std::string& host, int port, int threads, CniDaemon& daemon,
    std::function<absl::Status()> health) {
  std::unique_ptr<DaemonHttpServer> server(new DaemonHttpServer());
  const std::string listen = absl::StrCat(
      host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host,
      ":", port);
  const std::vector<std::string> options = {"listening_ports",
                                            listen,
                                            "num_threads",
                                            std::to_string(threads),
                                            "request_timeout_ms",
                                            "600000",
                                            "enable_keep_alive",
                                            "no",
                                            "enable_directory_listing",
                                            "no"};
  try {
    server->server_ = std::make_unique<CivetServer>(options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen, ": ", e.what()));
  }
  server->handler_ = std::make_unique<Handler>(daemon, std::move(health));
  server->server_->addHandler("/", server->handler_.get());
  const std::vector<int> ports = server->server_->getListeningPorts();
  if (!ports.empty()) server->port_ = ports.front();
  return server;
}

DaemonHttpServer::~DaemonHttpServer() {
  if (server_) server_->close();
}

}  // namespace zun::cni
