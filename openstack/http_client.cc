#include "openstack/http_client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace zun::openstack {

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? "" : it->second;
}

absl::Status StatusFromHttp(const HttpResponse& r, const std::string& what) {
  if (r.status >= 200 && r.status < 300) return absl::OkStatus();
  std::string body = r.body.substr(0, 300);
  for (char& ch : body) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  const std::string msg = absl::StrCat(what, ": HTTP ", r.status, " ", body);
  switch (r.status) {
    case 400:
      return absl::InvalidArgumentError(msg);
    case 401:
      return absl::UnauthenticatedError(msg);
    case 403:
      return absl::PermissionDeniedError(msg);
    case 404:
      return absl::NotFoundError(msg);
    case 409:
      return absl::AbortedError(msg);
    case 413:
    case 429:
      return absl::UnavailableError(msg);
    default:
      if (r.status >= 500) return absl::UnavailableError(msg);
      return absl::FailedPreconditionError(msg);
  }
}

std::string RedactUrl(const std::string& url) {
  std::string out = url;
  const size_t q = out.find('?');
  if (q != std::string::npos) out.resize(q);
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t at = out.find('@', scheme + 3);
    const size_t slash = out.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      out.erase(scheme + 3, at + 1 - (scheme + 3));
    }
  }
  return out;
}

}  // namespace zun::openstack
