// KeystoneSession and ServiceClient against a scripted Keystone: the
// password request zun-compute's keystoneauth sends, the catalog lookup,
// renewal before expiry (simulated clock) and after a 401, admin_token.
#include "openstack/keystone.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"
#include "openstack/fake_http_client.h"

namespace zun::openstack {
namespace {

using nlohmann::json;

constexpr char kAuthUrl[] = "http://127.0.0.1:5000/v3";

json Catalog() {
  return json::array({{{"type", "placement"},
                       {"name", "placement"},
                       {"endpoints",
                        {{{"interface", "public"},
                          {"region_id", "RegionOne"},
                          {"url", "http://placement.example:8778/"}},
                         {{"interface", "internal"},
                          {"region_id", "RegionOne"},
                          {"url", "http://placement.internal:8778"}},
                         {{"interface", "public"},
                          {"region_id", "RegionTwo"},
                          {"url", "http://placement.two:8778"}}}}},
                      {{"type", "network"},
                       {"endpoints",
                        {{{"interface", "public"},
                          {"region_id", "RegionOne"},
                          {"url", "http://neutron.example:9696"}}}}}});
}

// A Keystone that issues token "tok-N" (N counts issues) valid for
// `lifetime` from the simulated clock's now, and a service that accepts
// only the newest token.
struct World {
  SimulatedClock clock;
  absl::Duration lifetime = absl::Hours(1);
  int issued = 0;
  json last_auth;
  FakeHttpClient http{
      [this](const HttpRequest& r) -> absl::StatusOr<HttpResponse> {
        if (absl::EndsWith(r.url, "/v3/auth/tokens") && r.method == "POST") {
          last_auth = json::parse(r.body);
          const std::string pw =
              last_auth["auth"]["identity"]["password"]["user"]["password"];
          if (pw != "secret") return HttpResponse{401, {}, "{\"error\":{}}"};
          ++issued;
          HttpResponse resp;
          resp.status = 201;
          resp.headers["x-subject-token"] = "tok-" + std::to_string(issued);
          resp.body =
              json{{"token",
                    {{"expires_at", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                                                     clock.Now() + lifetime,
                                                     absl::UTCTimeZone())},
                     {"catalog", Catalog()}}}}
                  .dump();
          return resp;
        }
        auto it = r.headers.find("X-Auth-Token");
        const bool fresh = it != r.headers.end() &&
                           it->second == "tok-" + std::to_string(issued);
        return HttpResponse{fresh ? 200 : 401, {}, fresh ? "{}" : ""};
      }};

  KeystoneAuthOptions Password() {
    KeystoneAuthOptions o;
    o.auth_type = "password";
    o.auth_url = kAuthUrl;
    o.username = "zun";
    o.password = "secret";
    o.project_name = "service";
    o.user_domain_name = "Default";
    o.project_domain_id = "default";
    return o;
  }
};

TEST_CASE("password auth sends keystoneauth's v3 request and reads the catalog",
          "[keystone]") {
  World w;
  KeystoneAuthOptions o = w.Password();
  o.auth_url = "http://127.0.0.1:5000/";  // the root works as well
  KeystoneSession session(w.http, w.clock, o);
  absl::StatusOr<std::string> token = session.Token();
  REQUIRE(token.ok());
  CHECK(*token == "tok-1");
  CHECK(w.http.requests()[0].url == "http://127.0.0.1:5000/v3/auth/tokens");
  const json& user = w.last_auth["auth"]["identity"]["password"]["user"];
  CHECK(user["name"] == "zun");
  CHECK(user["domain"] == json{{"name", "Default"}});
  const json& project = w.last_auth["auth"]["scope"]["project"];
  CHECK(project["name"] == "service");
  CHECK(project["domain"] == json{{"id", "default"}});

  ServiceEndpoint placement{"placement", "publicURL", "", ""};
  CHECK(*session.EndpointFor(placement) == "http://placement.example:8778");
  placement.interface = "internal";
  CHECK(*session.EndpointFor(placement) == "http://placement.internal:8778");
  placement.interface = "public";
  placement.region_name = "RegionTwo";
  CHECK(*session.EndpointFor(placement) == "http://placement.two:8778");
  placement.endpoint_override = "http://override:1/";
  CHECK(*session.EndpointFor(placement) == "http://override:1");
  CHECK(session.EndpointFor({"volumev3", "public", "", ""}).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(session.authentications() == 1);  // one token served all of these
}

TEST_CASE("the token is renewed before it expires", "[keystone]") {
  World w;
  KeystoneSession session(w.http, w.clock, w.Password());
  CHECK(*session.Token() == "tok-1");
  w.clock.AdvanceTime(absl::Minutes(50));
  CHECK(*session.Token() == "tok-1");
  w.clock.AdvanceTime(absl::Minutes(9));  // within 120 s of expiry
  CHECK(*session.Token() == "tok-2");

  // A short-lived token is renewed at half its life.
  w.lifetime = absl::Seconds(60);
  w.clock.AdvanceTime(absl::Hours(2));
  CHECK(*session.Token() == "tok-3");
  w.clock.AdvanceTime(absl::Seconds(29));
  CHECK(*session.Token() == "tok-3");
  w.clock.AdvanceTime(absl::Seconds(2));
  CHECK(*session.Token() == "tok-4");
}

TEST_CASE("a refused token is replaced once and the request resent",
          "[keystone]") {
  World w;
  KeystoneSession session(w.http, w.clock, w.Password());
  ServiceClient client(w.http, session, {"placement", "public", "", ""}, {},
                       absl::Seconds(5),
                       {{"OpenStack-API-Version", "placement 1.31"}});
  absl::StatusOr<HttpResponse> r = client.Send("GET", "/resource_providers");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  // Revoked: the service stops accepting tok-1 (Keystone issues tok-2).
  ++w.issued;
  r = client.Send("GET", "/resource_providers");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  const std::vector<HttpRequest> reqs = w.http.requests();
  const HttpRequest& last = reqs.back();
  CHECK(last.url == "http://placement.example:8778/resource_providers");
  CHECK(last.headers.at("X-Auth-Token") == "tok-3");
  CHECK(last.headers.at("OpenStack-API-Version") == "placement 1.31");
}

TEST_CASE("wrong credentials are UNAUTHENTICATED and never echoed",
          "[keystone]") {
  World w;
  KeystoneAuthOptions o = w.Password();
  o.password = "wrong-password-xyz";
  KeystoneSession session(w.http, w.clock, o);
  absl::StatusOr<std::string> token = session.Token();
  CHECK(token.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(!absl::StrContains(token.status().message(), "wrong-password-xyz"));
}

TEST_CASE("Keystone unreachable is UNAVAILABLE", "[keystone]") {
  SimulatedClock clock;
  FakeHttpClient http([](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return absl::UnavailableError("connection refused");
  });
  World w;
  KeystoneSession session(http, clock, w.Password());
  CHECK(session.Token().status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("admin_token uses the token and endpoint as configured",
          "[keystone]") {
  World w;
  KeystoneAuthOptions o;
  o.auth_type = "admin_token";
  o.token = "static-token";
  o.endpoint = "http://placement.local:8778/";
  KeystoneSession session(w.http, w.clock, o);
  CHECK(*session.Token() == "static-token");
  CHECK(*session.EndpointFor({"placement", "public", "", ""}) ==
        "http://placement.local:8778");
  CHECK(w.http.requests().empty());  // Keystone is never asked
}

TEST_CASE("auth options are checked", "[keystone]") {
  World w;
  KeystoneAuthOptions o = w.Password();
  CHECK(ValidateAuthOptions(o).ok());
  o.password.clear();
  CHECK(absl::StrContains(ValidateAuthOptions(o).message(), "password"));
  o = w.Password();
  o.project_name.clear();
  CHECK(!ValidateAuthOptions(o).ok());
  o = w.Password();
  o.auth_type = "v2password";
  CHECK(!ValidateAuthOptions(o).ok());
  o.auth_type = "admin_token";
  CHECK(!ValidateAuthOptions(o).ok());  // no token
  o.token = "t";
  CHECK(ValidateAuthOptions(o).ok());
  CHECK(ValidateAuthOptions(KeystoneAuthOptions{}).ok());  // not configured
}

}  // namespace
}  // namespace zun::openstack
