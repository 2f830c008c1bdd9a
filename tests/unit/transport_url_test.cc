#include "rpc/transport_url.h"

#include <catch2/catch.hpp>

namespace zun::rpc {
namespace {

TEST_CASE("transport URLs: hosts, credentials, vhost, TLS") {
  auto u = ParseTransportUrl("rabbit://guest:guest@127.0.0.1:5682/");
  REQUIRE(u.ok());
  REQUIRE(u->hosts.size() == 1);
  CHECK(u->hosts[0].host == "127.0.0.1");
  CHECK(u->hosts[0].port == 5682);
  CHECK(u->hosts[0].user == "guest");
  CHECK(u->vhost == "/");
  CHECK_FALSE(u->ssl);

  auto multi = ParseTransportUrl(
      "rabbit://u1:p%40ss@h1:5672,u2:p2@h2:5673,h3/my%2Fvhost?ssl=1");
  REQUIRE(multi.ok());
  REQUIRE(multi->hosts.size() == 3);
  CHECK(multi->hosts[0].password == "p@ss");
  CHECK(multi->hosts[1].user == "u2");
  CHECK(multi->hosts[1].port == 5673);
  CHECK(multi->hosts[2].user == "u2");  // inherited
  CHECK(multi->vhost == "my/vhost");
  CHECK(multi->ssl);

  auto amqps = ParseTransportUrl("amqps://a:b@h/");
  REQUIRE(amqps.ok());
  CHECK(amqps->ssl);
  CHECK(amqps->hosts[0].port == 5671);

  auto v6 = ParseTransportUrl("rabbit://a:b@[::1]:5672/");
  REQUIRE(v6.ok());
  CHECK(v6->hosts[0].host == "::1");

  CHECK_FALSE(ParseTransportUrl("kafka://h/").ok());
  CHECK_FALSE(ParseTransportUrl("rabbit:///").ok());
  CHECK_FALSE(ParseTransportUrl("rabbit://h:99999/").ok());
  CHECK_FALSE(ParseTransportUrl("no-scheme").ok());
}

}  // namespace
}  // namespace zun::rpc
