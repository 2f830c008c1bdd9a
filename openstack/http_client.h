// File: http_client.h
// The HTTP seam of the OpenStack clients (Keystone, Placement, Neutron):
// one request in, one response out, with a deadline on every request.
// Implementations: CurlHttpClient (libcurl, TLS verification on by default)
// and FakeHttpClient (scripted, for unit tests).
//
// Errors of Do(): UNAVAILABLE when no response arrived (connection refused
// or reset, DNS, TLS handshake or verification failure), DEADLINE_EXCEEDED
// when the request's timeout passed. Any HTTP status, 4xx and 5xx included,
// is a response, not an error: StatusFromHttp() maps it when a caller wants.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zun::openstack {

// TLS settings of a client (keystoneauth's cafile/certfile/keyfile/insecure,
// Zun's [*_client] ca_file/cert_file/key_file/insecure).
struct TlsOptions {
  std::string ca_file;    // empty: the system's trust store
  std::string cert_file;  // client certificate (PEM), optional
  std::string key_file;   // its key (PEM)
  bool insecure = false;  // skip server certificate verification
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(30);
  TlsOptions tls;
};

struct HttpResponse {
  int status = 0;
  // Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;

  // The header's value, or "" (name in any case).
  std::string Header(const std::string& name) const;
};

// Thread-safe: any number of threads may call Do() at once.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual absl::StatusOr<HttpResponse> Do(const HttpRequest& request) = 0;
};

// The status a response stands for: OK for 2xx; 400 INVALID_ARGUMENT,
// 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ABORTED
// (conflict: re-read and retry), 413/429/503 UNAVAILABLE, other 5xx
// UNAVAILABLE, other 4xx FAILED_PRECONDITION. The message names `what`, the
// status and the start of the body (which never carries credentials of
// ours: bodies of requests are not echoed).
absl::Status StatusFromHttp(const HttpResponse& response,
                            const std::string& what);

// The URL with any user:password@ part and query string removed (for logs).
std::string RedactUrl(const std::string& url);

}  // namespace zun::openstack
