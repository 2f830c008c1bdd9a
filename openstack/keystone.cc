#include "openstack/keystone.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/logging.h"

namespace zun::openstack {
namespace {

using nlohmann::json;

bool IsPassword(const std::string& type) {
  return type == "password" || type == "v3password";
}

// keystoneauth accepts the Identity root or its /v3 endpoint.
std::string TokensUrl(std::string url) {
  while (absl::EndsWith(url, "/")) url.pop_back();
  if (!absl::EndsWith(url, "/v3")) url += "/v3";
  return url + "/auth/tokens";
}

json Domain(const std::string& name, const std::string& id) {
  if (!id.empty()) return {{"id", id}};
  if (!name.empty()) return {{"name", name}};
  return {{"id", "default"}};
}

// "publicURL" (Zun's endpoint_type) and "public" both mean "public".
std::string NormalizeInterface(std::string i) {
  i = absl::AsciiStrToLower(i);
  if (absl::EndsWith(i, "url")) i.resize(i.size() - 3);
  return i.empty() ? "public" : i;
}

absl::StatusOr<absl::Time> ParseExpiry(const std::string& s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", s, &t, &err) ||
      absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", s, &t, &err)) {
    return t;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("Keystone token expires_at '", s, "': ", err));
}

}  // namespace

absl::Status ValidateAuthOptions(const KeystoneAuthOptions& o) {
  auto missing = [&](const char* what) {
    return absl::InvalidArgumentError(
        absl::StrCat("[keystone_auth] ", what,
                     " is required with auth_type = ", o.auth_type));
  };
  if (o.auth_type.empty()) return absl::OkStatus();
  if (o.auth_type == "admin_token") {
    if (o.token.empty()) return missing("token");
    return absl::OkStatus();
  }
  if (!IsPassword(o.auth_type)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "[keystone_auth] auth_type '", o.auth_type,
        "' is not supported (password, v3password or admin_token)"));
  }
  if (o.auth_url.empty()) return missing("auth_url");
  if (absl::StrContains(o.auth_url, "/v2.0")) {
    return absl::InvalidArgumentError(
        "[keystone_auth] auth_url: Identity v2.0 is not supported, use v3");
  }
  if (o.username.empty() && o.user_id.empty()) return missing("username");
  if (o.password.empty()) return missing("password");
  if (o.project_name.empty() && o.project_id.empty()) {
    return missing("project_name (a project-scoped token carries the catalog)");
  }
  return absl::OkStatus();
}

KeystoneSession::KeystoneSession(HttpClient& http, Clock& clock,
                                 KeystoneAuthOptions options)
    : http_(http), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<KeystoneSession::Cached> KeystoneSession::Authenticate() {
  if (options_.auth_type == "admin_token") {
    Cached c;
    c.token = options_.token;
    return c;
  }
  if (!IsPassword(options_.auth_type)) {
    return absl::FailedPreconditionError(
        "no Keystone credentials configured ([keystone_auth] auth_type)");
  }
  json user;
  if (!options_.user_id.empty()) {
    user["id"] = options_.user_id;
  } else {
    user["name"] = options_.username;
    user["domain"] = Domain(options_.user_domain_name, options_.user_domain_id);
  }
  user["password"] = options_.password;
  json project;
  if (!options_.project_id.empty()) {
    project["id"] = options_.project_id;
  } else {
    project["name"] = options_.project_name;
    project["domain"] =
        Domain(options_.project_domain_name, options_.project_domain_id);
  }
  json body = {{"auth",
                {{"identity",
                  {{"methods", {"password"}}, {"password", {{"user", user}}}}},
                 {"scope", {{"project", project}}}}}};
  HttpRequest req;
  req.method = "POST";
  req.url = TokensUrl(options_.auth_url);
  req.headers = {{"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body = body.dump();
  req.timeout = options_.timeout;
  req.tls = options_.tls;
  absl::StatusOr<HttpResponse> r = http_.Do(req);
  if (!r.ok()) return r.status();
  if (absl::Status s = StatusFromHttp(*r, "Keystone: authentication");
      !s.ok()) {
    return s;
  }
  Cached c;
  c.token = r->Header("X-Subject-Token");
  if (c.token.empty()) {
    return absl::FailedPreconditionError(
        "Keystone: no X-Subject-Token in the authentication response");
  }
  json doc = json::parse(r->body, nullptr, false);
  if (doc.is_discarded() || !doc.contains("token") ||
      !doc["token"].is_object()) {
    return absl::FailedPreconditionError(
        "Keystone: the authentication response has no token document");
  }
  const json& token = doc["token"];
  if (token.contains("catalog") && token["catalog"].is_array()) {
    c.catalog = token["catalog"];
  }
  const absl::Time now = clock_.Now();
  if (token.contains("expires_at") && token["expires_at"].is_string()) {
    absl::StatusOr<absl::Time> exp =
        ParseExpiry(token["expires_at"].get<std::string>());
    if (!exp.ok()) return exp.status();
    c.expires_at = *exp;
    const absl::Duration life = std::max(absl::ZeroDuration(), *exp - now);
    c.renew_at = *exp - std::min(absl::Seconds(120), life / 2);
  }
  ZUN_LOG(kOpenstack, info,
          "Keystone: authenticated to {} (token valid until {})",
          RedactUrl(req.url),
          c.expires_at == absl::InfiniteFuture()
              ? std::string("unknown")
              : absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", c.expires_at,
                                 absl::UTCTimeZone()));
  return c;
}

absl::StatusOr<KeystoneSession::Cached> KeystoneSession::Current() {
  if (cached_ && clock_.Now() < cached_->renew_at) return *cached_;
  absl::StatusOr<Cached> c = Authenticate();
  if (!c.ok()) return c.status();
  cached_ = *c;
  ++authentications_;
  return *c;
}

absl::StatusOr<std::string> KeystoneSession::Token() {
  absl::MutexLock l(&mu_);
  absl::StatusOr<Cached> c = Current();
  if (!c.ok()) return c.status();
  return c->token;
}

void KeystoneSession::Invalidate(const std::string& token) {
  absl::MutexLock l(&mu_);
  if (options_.auth_type == "admin_token") return;  // nothing to renew
  if (cached_ && cached_->token == token) cached_.reset();
}

int64_t KeystoneSession::authentications() {
  absl::MutexLock l(&mu_);
  return authentications_;
}

absl::StatusOr<std::string> KeystoneSession::EndpointFor(
    const ServiceEndpoint& s) {
  auto trim = [](std::string url) {
    while (absl::EndsWith(url, "/")) url.pop_back();
    return url;
  };
  if (!s.endpoint_override.empty()) return trim(s.endpoint_override);
  if (options_.auth_type == "admin_token") {
    if (options_.endpoint.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "no endpoint for service type '", s.service_type,
          "': auth_type admin_token needs [keystone_auth] endpoint or the "
          "client's endpoint_override"));
    }
    return trim(options_.endpoint);
  }
  absl::MutexLock l(&mu_);
  absl::StatusOr<Cached> c = Current();
  if (!c.ok()) return c.status();
  const std::string want = NormalizeInterface(s.interface);
  for (const json& svc : c->catalog) {
    if (!svc.is_object() || svc.value("type", "") != s.service_type) continue;
    if (!svc.contains("endpoints") || !svc["endpoints"].is_array()) continue;
    for (const json& ep : svc["endpoints"]) {
      if (!ep.is_object()) continue;
      if (NormalizeInterface(ep.value("interface", "")) != want) continue;
      const std::string region =
          ep.value("region_id", ep.value("region", std::string()));
      if (!s.region_name.empty() && region != s.region_name) continue;
      const std::string url = ep.value("url", "");
      if (!url.empty()) return trim(url);
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "the Keystone catalog has no ", want, " endpoint for service type '",
      s.service_type, "'",
      s.region_name.empty() ? "" : absl::StrCat(" in region ", s.region_name)));
}

ServiceClient::ServiceClient(HttpClient& http, KeystoneSession& session,
                             ServiceEndpoint endpoint, TlsOptions tls,
                             absl::Duration timeout,
                             std::map<std::string, std::string> default_headers)
    : http_(http),
      session_(session),
      endpoint_(std::move(endpoint)),
      tls_(std::move(tls)),
      timeout_(timeout),
      default_headers_(std::move(default_headers)) {}

absl::StatusOr<HttpResponse> ServiceClient::Send(
    const std::string& method, const std::string& path, const std::string& body,
    const std::map<std::string, std::string>& headers) {
  absl::StatusOr<HttpResponse> last = absl::UnknownError("not sent");
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::string> token = session_.Token();
    if (!token.ok()) return token.status();
    absl::StatusOr<std::string> base = session_.EndpointFor(endpoint_);
    if (!base.ok()) return base.status();
    HttpRequest req;
    req.method = method;
    req.url = *base + path;
    req.headers = default_headers_;
    for (const auto& [k, v] : headers) req.headers[k] = v;
    req.headers["X-Auth-Token"] = *token;
    req.headers.emplace("Accept", "application/json");
    if (!body.empty()) req.headers.emplace("Content-Type", "application/json");
    req.body = body;
    req.timeout = timeout_;
    req.tls = tls_;
    last = http_.Do(req);
    if (!last.ok() || last->status != 401) return last;
    ZUN_LOG(kOpenstack, info,
            "{} {}: token refused (401), authenticating again", method,
            RedactUrl(req.url));
    session_.Invalidate(*token);
  }
  return last;
}

}  // namespace zun::openstack
