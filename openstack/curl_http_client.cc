#include "openstack/curl_http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace zun::openstack {
namespace {

struct Sink {
  HttpResponse* response;
  size_t max_body;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t len = size * n;
  if (sink->response->body.size() + len > sink->max_body) {
    sink->too_large = true;
    return 0;  // makes curl fail the transfer
  }
  sink->response->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t len = size * n;
  absl::string_view line(data, len);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (e.g. after 100 Continue): forget earlier headers.
    sink->response->headers.clear();
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return len;
  std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  sink->response->headers[name] =
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  return len;
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

CurlHttpClient::CurlHttpClient(size_t max_body_bytes)
    : max_body_bytes_(max_body_bytes) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::StatusOr<HttpResponse> CurlHttpClient::Do(const HttpRequest& req) {
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return absl::ResourceExhaustedError("curl_easy_init failed");
  CURL* c = curl.get();
  HttpResponse response;
  Sink sink{&response, max_body_bytes_};
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const long timeout_ms = std::max<long>(
      1, static_cast<long>(absl::ToInt64Milliseconds(req.timeout)));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);

  const TlsOptions& tls = req.tls;
  if (!tls.ca_file.empty())
    curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, tls.cert_file.c_str());
  }
  if (!tls.key_file.empty())
    curl_easy_setopt(c, CURLOPT_SSLKEY, tls.key_file.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, tls.insecure ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, tls.insecure ? 0L : 2L);

  const std::string method = absl::AsciiStrToUpper(req.method);
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!req.body.empty() || method == "POST" || method == "PUT" ||
        method == "PATCH") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(req.body.size()));
    }
  }
  std::unique_ptr<curl_slist, CurlFree> headers;
  curl_slist* list = nullptr;
  for (const auto& [name, value] : req.headers) {
    list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  headers.reset(list);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    const std::string what =
        absl::StrCat(req.method, " ", RedactUrl(req.url), ": ",
                     error[0] != '\0' ? error : curl_easy_strerror(rc));
    if (sink.too_large) {
      return absl::ResourceExhaustedError(absl::StrCat(
          what, " (response larger than ", max_body_bytes_, " bytes)"));
    }
    if (rc == CURLE_OPERATION_TIMEDOUT)
      return absl::DeadlineExceededError(what);
    return absl::UnavailableError(what);
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  response.status = static_cast<int>(code);
  return response;
}

}  // namespace zun::openstack
