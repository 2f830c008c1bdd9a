// File: fake_http_client.h
// A scripted HttpClient for unit tests: every request goes to a handler the
// test supplies, and is recorded. Thread-safe.
#pragma once

#include <functional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "openstack/http_client.h"

namespace zun::openstack {

class FakeHttpClient final : public HttpClient {
 public:
  using Handler =
      std::function<absl::StatusOr<HttpResponse>(const HttpRequest&)>;
  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) override {
    Handler h;
    {
      absl::MutexLock l(&mu_);
      requests_.push_back(request);
      h = handler_;
    }
    return h(request);
  }

  std::vector<HttpRequest> requests() {
    absl::MutexLock l(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

}  // namespace zun::openstack
