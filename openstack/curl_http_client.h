// File: curl_http_client.h
// HttpClient over libcurl: one easy handle per request (no shared state
// between requests, so any number of threads may call Do at once), TLS
// verification on unless TlsOptions::insecure, http and https only, no
// redirects followed, the request's timeout as curl's total timeout,
// response bodies capped at max_body_bytes.
//
// Thread-safe.
#pragma once

#include <cstddef>

#include "openstack/http_client.h"

namespace zun::openstack {

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(size_t max_body_bytes = 16 << 20);
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) override;

 private:
  const size_t max_body_bytes_;
};

}  // namespace zun::openstack
