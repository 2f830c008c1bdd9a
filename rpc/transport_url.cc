#include "rpc/transport_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace zun::rpc {
namespace {

absl::StatusOr<std::string> PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return absl::InvalidArgumentError("bad %-escape");
      int v = 0;
      for (int k = 1; k <= 2; ++k) {
        char c = s[i + k];
        if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
          return absl::InvalidArgumentError("bad %-escape");
        }
        v = v * 16 + (absl::ascii_isdigit(static_cast<unsigned char>(c))
                          ? c - '0'
                          : absl::ascii_tolower(static_cast<unsigned char>(c)) -
                                'a' + 10);
      }
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<TransportUrl> ParseTransportUrl(const std::string& url) {
  TransportUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return absl::InvalidArgumentError(
        "transport_url must look like rabbit://user:pass@host:port/vhost");
  }
  std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme == "amqps") {
    out.ssl = true;
  } else if (scheme != "rabbit" && scheme != "amqp") {
    return absl::InvalidArgumentError(absl::StrCat(
        "transport_url scheme '", scheme, "' is not rabbit, amqp or amqps"));
  }
  std::string rest = url.substr(scheme_end + 3);
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string hosts = rest;
  std::string vhost_raw;
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    hosts = rest.substr(0, slash);
    vhost_raw = rest.substr(slash + 1);
  }
  absl::StatusOr<std::string> vhost = PercentDecode(vhost_raw);
  if (!vhost.ok()) return vhost.status();
  out.vhost = vhost->empty() ? "/" : *vhost;
  AmqpHost previous;
  for (absl::string_view part : absl::StrSplit(hosts, ',')) {
    if (part.empty()) continue;
    AmqpHost h = previous;
    absl::string_view hostport = part;
    if (size_t at = part.rfind('@'); at != absl::string_view::npos) {
      absl::string_view creds = part.substr(0, at);
      hostport = part.substr(at + 1);
      std::pair<absl::string_view, absl::string_view> up =
          absl::StrSplit(creds, absl::MaxSplits(':', 1));
      absl::StatusOr<std::string> user = PercentDecode(up.first);
      absl::StatusOr<std::string> pass = PercentDecode(up.second);
      if (!user.ok() || !pass.ok()) {
        return absl::InvalidArgumentError(
            "bad %-escape in transport_url credentials");
      }
      h.user = *user;
      h.password = *pass;
    }
    h.port = out.ssl ? 5671 : 5672;
    if (!hostport.empty() && hostport[0] == '[') {  // [ipv6]:port
      size_t close = hostport.find(']');
      if (close == absl::string_view::npos) {
        return absl::InvalidArgumentError("bad IPv6 host in transport_url");
      }
      h.host = std::string(hostport.substr(1, close - 1));
      hostport = hostport.substr(close + 1);
      if (absl::ConsumePrefix(&hostport, ":") &&
          !absl::SimpleAtoi(hostport, &h.port)) {
        return absl::InvalidArgumentError("bad port in transport_url");
      }
    } else {
      std::pair<absl::string_view, absl::string_view> hp =
          absl::StrSplit(hostport, absl::MaxSplits(':', 1));
      h.host = std::string(hp.first);
      if (!hp.second.empty() && !absl::SimpleAtoi(hp.second, &h.port)) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad port '", hp.second, "' in transport_url"));
      }
    }
    if (h.host.empty()) {
      return absl::InvalidArgumentError("transport_url has an empty host");
    }
    if (h.port <= 0 || h.port > 65535) {
      return absl::InvalidArgumentError("transport_url port out of range");
    }
    out.hosts.push_back(h);
    previous = h;
  }
  if (out.hosts.empty()) {
    return absl::InvalidArgumentError("transport_url names no host");
  }
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    out.query[p.first] = p.second;
  }
  if (auto it = out.query.find("ssl"); it != out.query.end()) {
    std::string v = absl::AsciiStrToLower(it->second);
    out.ssl = v == "1" || v == "true" || v == "yes" || v == "on";
  }
  return out;
}

}  // namespace zun::rpc
