// File: keystone.h
// Keystone v3 authentication for the agent's service calls, the way
// zun-compute's admin context authenticates from zun.conf's
// [keystone_auth] (keystoneauth option names):
//  - auth_type password / v3password: a project-scoped token for
//    username or user_id + password (user and project domains by name or
//    id; "default" when neither is set), from POST <auth_url>/auth/tokens;
//    service endpoints come from the token's catalog;
//  - auth_type admin_token: the configured `token` as it is, and the
//    configured `endpoint` for every service (clouds without Keystone).
// The token is kept until it is within min(120 s, half its lifetime) of
// expiring, or until a service refuses it (Invalidate after a 401); the
// next call then authenticates again. Credentials and tokens are never
// logged or put into errors.
//
// Thread-safe: concurrent callers share one token; at most one
// authentication runs at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"
#include "openstack/http_client.h"

namespace zun::openstack {

struct KeystoneAuthOptions {
  // "password", "v3password" or "admin_token"; empty: not configured.
  std::string auth_type;
  std::string auth_url;  // with or without the /v3 suffix
  std::string username, user_id, password;
  std::string user_domain_name, user_domain_id;
  std::string project_name, project_id;
  std::string project_domain_name, project_domain_id;
  std::string token;     // admin_token
  std::string endpoint;  // admin_token: the endpoint of every service
  TlsOptions tls;        // cafile, certfile, keyfile, insecure
  absl::Duration timeout = absl::Seconds(30);
};

// INVALID_ARGUMENT naming the missing or conflicting option, for config
// checks ("[keystone_auth] password is required ...").
absl::Status ValidateAuthOptions(const KeystoneAuthOptions& options);

// Where a service is: Zun's [<service>_client] options.
struct ServiceEndpoint {
  std::string service_type;          // "placement", "network"
  std::string interface = "public";  // publicURL/internalURL/adminURL too
  std::string region_name;           // empty: any region
  std::string endpoint_override;     // used as it is when set
};

class KeystoneSession {
 public:
  KeystoneSession(HttpClient& http, Clock& clock, KeystoneAuthOptions options);

  // A token that is valid for a while yet. UNAUTHENTICATED when Keystone
  // refused the credentials, UNAVAILABLE / DEADLINE_EXCEEDED when it could
  // not be reached, FAILED_PRECONDITION for an answer we cannot use.
  absl::StatusOr<std::string> Token();

  // Forgets `token` if it is the current one (a service answered 401).
  void Invalidate(const std::string& token);

  // The base URL of a service: endpoint_override, else admin_token's
  // endpoint, else the catalog entry of the service type with the
  // interface (and region). NOT_FOUND if the catalog has none.
  absl::StatusOr<std::string> EndpointFor(const ServiceEndpoint& service);

  // Successful authentications so far (tests, metrics).
  int64_t authentications();

 private:
  struct Cached {
    std::string token;
    absl::Time expires_at = absl::InfiniteFuture();
    absl::Time renew_at = absl::InfiniteFuture();
    nlohmann::json catalog = nlohmann::json::array();
  };
  absl::StatusOr<Cached> Authenticate();
  absl::StatusOr<Cached> Current() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  HttpClient& http_;
  Clock& clock_;
  const KeystoneAuthOptions options_;
  absl::Mutex mu_;
  std::optional<Cached> cached_ ABSL_GUARDED_BY(mu_);
  int64_t authentications_ ABSL_GUARDED_BY(mu_) = 0;
};

// Sends requests to one service with the session's token: resolves the
// endpoint, adds X-Auth-Token and the client's default headers (e.g. a
// microversion), and on a 401 re-authenticates once and resends.
// Thread-safe.
class ServiceClient {
 public:
  ServiceClient(HttpClient& http, KeystoneSession& session,
                ServiceEndpoint endpoint, TlsOptions tls,
                absl::Duration timeout,
                std::map<std::string, std::string> default_headers = {});

  // `path` is appended to the endpoint ("/resource_providers/..."). Any
  // HTTP status is returned as a response; errors are those of Token(),
  // EndpointFor() and HttpClient::Do().
  absl::StatusOr<HttpResponse> Send(
      const std::string& method, const std::string& path,
      const std::string& body = "",
      const std::map<std::string, std::string>& headers = {});

  const ServiceEndpoint& endpoint() const { return endpoint_; }

 private:
  HttpClient& http_;
  KeystoneSession& session_;
  const ServiceEndpoint endpoint_;
  const TlsOptions tls_;
  const absl::Duration timeout_;
  const std::map<std::string, std::string> default_headers_;
};

}  // namespace zun::openstack
