#include "tests/support/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace zun::testing {
namespace {

sockaddr_in Address(const std::string& ipv4, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ipv4.c_str(), &a.sin_addr);
  return a;
}

}  // namespace

absl::StatusOr<HttpResponse> HttpRequest(int port, const std::string& method,
                                         const std::string& path,
                                         absl::Duration timeout) {
  return HttpRequestTo("127.0.0.1", port, method, path, timeout);
}

absl::StatusOr<HttpResponse> HttpRequestTo(const std::string& ipv4, int port,
                                           const std::string& method,
                                           const std::string& path,
                                           absl::Duration timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(strerror(errno));
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in a = Address(ipv4, port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    const std::string why = strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect: ", why));
  }
  const std::string req = absl::StrCat(method, " ", path,
                                       " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       "Connection: close\r\n\r\n");
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(req.size())) {
    close(fd);
    return absl::UnavailableError("send failed");
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      close(fd);
      return absl::DeadlineExceededError("recv failed or timed out");
    }
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos ||
      raw.size() < 12) {
    return absl::InternalError(absl::StrCat("bad HTTP response: ", raw));
  }
  HttpResponse r;
  if (!absl::SimpleAtoi(raw.substr(9, 3), &r.status)) {
    return absl::InternalError("bad status line");
  }
  r.headers = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

int FreeTcpPort() {
  constexpr int kFirst = 27000, kLast = 32767;
  static std::atomic<uint32_t> next{
      static_cast<uint32_t>(std::random_device{}() % (kLast - kFirst + 1))};
  for (int tries = 0; tries <= kLast - kFirst; ++tries) {
    const int port =
        kFirst + static_cast<int>(next.fetch_add(1) % (kLast - kFirst + 1));
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_in a = Address("127.0.0.1", port);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (free) return port;
  }
  // All taken (never seen): any port the kernel gives.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Address("127.0.0.1", 0);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

double MetricIn(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
  }
  return -1;
}

double MetricOf(int port, const std::string& series) {
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", "/metrics");
  if (!r.ok()) return -1;
  return MetricIn(r->body, series);
}

}  // namespace zun::testing
