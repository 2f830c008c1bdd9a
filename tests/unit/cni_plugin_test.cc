// The zun-cni plugin (cni/cni_plugin.h) against a scripted zun-cni-daemon:
// what it POSTs, what it prints for each answer, environment and config
// errors, CHECK and VERSION, retries while the daemon is unreachable (on a
// clock that jumps instead of sleeping).
#include "cni/cni_plugin.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <vector>

#include "cni/cni_protocol.h"
#include "nlohmann/json.hpp"
#include "openstack/fake_http_client.h"
#include "tests/support/test_env.h"

namespace zun::cni {
namespace {

using nlohmann::json;
using openstack::FakeHttpClient;
using openstack::HttpRequest;
using openstack::HttpResponse;

// A clock whose waits return at once, moving time to their deadline.
class JumpClock final : public Clock {
 public:
  absl::Time Now() override { return now_; }
  bool WaitUntil(absl::Time deadline, Waker&) override {
    if (deadline > now_) {
      sleeps.push_back(deadline - now_);
      now_ = deadline;
    }
    return false;
  }
  std::vector<absl::Duration> sleeps;

 private:
  absl::Time now_ = absl::FromUnixSeconds(1767225600);
};

Vif TestVif() {
  Vif v;
  v.id = "9b2c7e11-0000-4000-8000-000000000001";
  v.address = "fa:16:3e:12:34:56";
  v.vif_name = TapName(v.id);
  v.plugin = "linux_bridge";
  v.bridge_name = "brq4e8f1d2c-00";
  v.network.id = "4e8f1d2c-0000";
  v.network.bridge = v.bridge_name;
  VifSubnet s;
  s.cidr = "10.0.0.0/26";
  s.gateway = "10.0.0.1";
  s.ips = {"10.0.0.5"};
  v.network.subnets = {s};
  return v;
}

struct World {
  JumpClock clock;
  std::function<absl::StatusOr<HttpResponse>(const HttpRequest&)> daemon =
      [](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return HttpResponse{202, {}, VifToPrimitive(TestVif()).dump()};
  };
  FakeHttpClient http{[this](const HttpRequest& r) { return daemon(r); }};
  std::map<std::string, std::string> env = {
      {"CNI_COMMAND", "ADD"},
      {"CNI_CONTAINERID", "3f9ae1"},
      {"CNI_NETNS", "/var/run/netns/cni-6c0d"},
      {"CNI_IFNAME", "eth0"},
      {"CNI_PATH", "/opt/cni/bin"},
      {"CNI_ARGS",
       "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=0b6f"},
      {"PATH", "/usr/bin"},
      {"http_proxy", "http://proxy:3128"}};
  json config = {{"cniVersion", "0.3.1"}, {"name", "zun"}, {"type", "zun-cni"}};

  PluginOutput Run(const std::string& command) {
    env["CNI_COMMAND"] = command;
    return RunPlugin(env, config.dump(), http, clock);
  }
};

json Parse(const PluginOutput& out) { return json::parse(out.stdout_text); }

TEST_CASE("zun-cni ADD posts the CNI env and config, prints the result",
          "[cni]") {
  World w;
  const PluginOutput out = w.Run("ADD");
  REQUIRE(out.exit_code == 0);
  const json result = Parse(out);
  CHECK(result["cniVersion"] == "0.3.1");
  CHECK(result["interfaces"][0] ==
        json{{"name", "eth0"},
             {"mac", "fa:16:3e:12:34:56"},
             {"sandbox", "/var/run/netns/cni-6c0d"}});
  CHECK(result["ips"][0]["address"] == "10.0.0.5/26");
  CHECK(out.log_text.empty());

  const std::vector<HttpRequest> requests = w.http.requests();
  REQUIRE(requests.size() == 1);
  const HttpRequest& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.url == "http://127.0.0.1:9036/addNetwork");
  CHECK(r.headers.at("Content-Type") == "application/json");
  CHECK(r.headers.at("Connection") == "close");
  CHECK(json::parse(r.body) == json{{"CNI_COMMAND", "ADD"},
                                    {"CNI_CONTAINERID", "3f9ae1"},
                                    {"CNI_NETNS", "/var/run/netns/cni-6c0d"},
                                    {"CNI_IFNAME", "eth0"},
                                    {"CNI_PATH", "/opt/cni/bin"},
                                    {"CNI_ARGS", w.env["CNI_ARGS"]},
                                    {"config_zun", w.config}});
  // Longer than the daemon's default 60 s ACTIVE wait.
  CHECK(r.timeout == absl::Seconds(90));
}

TEST_CASE("zun-cni reads [cni_daemon] from zun_conf", "[cni]") {
  testing::ScopedTempDir dir("zcni");
  const std::string conf = dir.path() + "/zun.conf";
  std::ofstream(conf) << "[DEFAULT]\nhost = node1\n[cni_daemon]\n"
                         "cni_daemon_host = 10.1.2.3\ncni_daemon_port = 9999\n"
                         "vif_active_timeout = 120\n";
  World w;
  w.config["zun_conf"] = conf;
  w.config["debug"] = true;
  w.config["cniVersion"] = "1.0.0";
  const PluginOutput add = w.Run("ADD");
  REQUIRE(add.exit_code == 0);
  CHECK_FALSE(Parse(add)["ips"][0].contains("version"));  // 1.0.0
  CHECK_FALSE(add.log_text.empty());
  w.daemon = [](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return HttpResponse{204, {}, ""};
  };
  const PluginOutput del = w.Run("DEL");
  CHECK(del.exit_code == 0);
  CHECK(del.stdout_text.empty());
  const auto requests = w.http.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].url == "http://10.1.2.3:9999/addNetwork");
  CHECK(requests[0].timeout > absl::Seconds(120));
  CHECK(requests[0].timeout == absl::Seconds(150));
  CHECK(requests[1].url == "http://10.1.2.3:9999/delNetwork");
  CHECK(requests[1].timeout == absl::Seconds(60));

  std::ofstream(conf) << "[cni_daemon]\ncni_daemon_port = http\n";
  CHECK(Parse(w.Run("ADD"))["code"] == kErrInvalidNetworkConfig);
  w.config["zun_conf"] = dir.path() + "/missing.conf";
  const json missing = Parse(w.Run("ADD"));
  CHECK(missing["code"] == kErrInvalidNetworkConfig);
  CHECK(missing["msg"].get<std::string>().find("missing.conf") !=
        std::string::npos);
  CHECK(w.http.requests().size() == 2);
  CHECK(DaemonBaseUrl({"::1", 9036, absl::Seconds(60)}) == "http://[::1]:9036");
}

TEST_CASE("zun-cni ADD with the daemon's additional VIFs", "[cni]") {
  World w;
  w.daemon = [](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    Vif eth1 = TestVif();
    eth1.address = "fa:16:3e:00:00:02";
    eth1.network.subnets[0].cidr = "192.168.7.0/24";
    eth1.network.subnets[0].ips = {"192.168.7.9"};
    json body = VifToPrimitive(TestVif());
    body["zun_additional_vifs"] = {{"eth1", VifToPrimitive(eth1)}};
    return HttpResponse{202, {}, body.dump()};
  };
  const PluginOutput out = w.Run("ADD");
  REQUIRE(out.exit_code == 0);
  const json r = Parse(out);
  REQUIRE(r["interfaces"].size() == 2);
  CHECK(r["interfaces"][1]["name"] == "eth1");
  CHECK(r["ips"][1]["interface"] == 1);
  CHECK(r["routes"] == json::parse(R"([{"dst":"0.0.0.0/0","gw":"10.0.0.1"}])"));
}

TEST_CASE("zun-cni VERSION is answered locally", "[cni]") {
  World w;
  const PluginOutput out = w.Run("VERSION");
  CHECK(out.exit_code == 0);
  CHECK(Parse(out) ==
        json{{"cniVersion", "0.3.1"},
             {"supportedVersions", {"0.3.0", "0.3.1", "0.4.0", "1.0.0"}}});
  const PluginOutput bare =
      RunPlugin({{"CNI_COMMAND", "VERSION"}}, "", w.http, w.clock);
  CHECK(bare.exit_code == 0);
  CHECK(Parse(bare)["cniVersion"] == "1.0.0");
  CHECK(w.http.requests().empty());
}

TEST_CASE("zun-cni CHECK: refused below 0.4.0, forwarded from 0.4.0", "[cni]") {
  World w;
  const PluginOutput refused = w.Run("CHECK");
  CHECK(refused.exit_code == 1);
  CHECK(Parse(refused)["code"] == kErrIncompatibleVersion);
  CHECK(Parse(refused)["cniVersion"] == "0.3.1");
  CHECK(w.http.requests().empty());

  w.config["cniVersion"] = "0.4.0";
  int status = 204;
  w.daemon = [&status](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return HttpResponse{status, {}, ""};
  };
  const PluginOutput ok = w.Run("CHECK");
  CHECK(ok.exit_code == 0);
  CHECK(ok.stdout_text.empty());
  REQUIRE(w.http.requests().size() == 1);
  CHECK(w.http.requests()[0].url == "http://127.0.0.1:9036/checkNetwork");
  CHECK(w.http.requests()[0].timeout == absl::Seconds(60));
  status = 404;
  const PluginOutput unsupported = w.Run("CHECK");
  CHECK(unsupported.exit_code == 1);
  CHECK(Parse(unsupported)["code"] == kErrCheckUnsupported);
}

TEST_CASE("zun-cni environment and config errors", "[cni]") {
  World w;
  SECTION("unknown command") {
    const PluginOutput out = w.Run("STATUS");
    CHECK(out.exit_code == 1);
    const json e = Parse(out);
    CHECK(e["code"] == kErrInvalidEnvironment);
    CHECK(e["msg"] == "unknown CNI_COMMAND 'STATUS'");
    CHECK(e["cniVersion"] == "0.3.1");
    CHECK(e.contains("details"));
  }
  SECTION("no CNI_COMMAND") {
    w.env.erase("CNI_COMMAND");
    const json e = Parse(RunPlugin(w.env, w.config.dump(), w.http, w.clock));
    CHECK(e["code"] == kErrInvalidEnvironment);
  }
  SECTION("missing CNI_NETNS for ADD, not for DEL") {
    w.env.erase("CNI_NETNS");
    const json e = Parse(w.Run("ADD"));
    CHECK(e["code"] == kErrInvalidEnvironment);
    CHECK(e["msg"] == "required env variables [CNI_NETNS] missing");
    w.daemon = [](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
      return HttpResponse{204, {}, ""};
    };
    CHECK(w.Run("DEL").exit_code == 0);
  }
  SECTION("malformed CNI_ARGS, no capsule uuid") {
    w.env["CNI_ARGS"] = "K8S_POD_NAME=x;junk";
    CHECK(Parse(w.Run("ADD"))["code"] == kErrInvalidEnvironment);
    w.env["CNI_ARGS"] = "IgnoreUnknown=1";
    const json e = Parse(w.Run("ADD"));
    CHECK(e["code"] == kErrInvalidEnvironment);
    CHECK(e["msg"].get<std::string>().find("K8S_POD_NAME") !=
          std::string::npos);
  }
  SECTION("stdin is not JSON") {
    const PluginOutput out = RunPlugin(w.env, "{not json", w.http, w.clock);
    CHECK(out.exit_code == 1);
    CHECK(Parse(out)["code"] == kErrDecodingFailure);
    CHECK(Parse(RunPlugin(w.env, "[1]", w.http, w.clock))["code"] ==
          kErrDecodingFailure);
  }
  SECTION("unsupported or missing cniVersion") {
    w.config["cniVersion"] = "0.2.0";
    const json e = Parse(w.Run("ADD"));
    CHECK(e["code"] == kErrIncompatibleVersion);
    CHECK(e["cniVersion"] == "1.0.0");
    w.config.erase("cniVersion");
    CHECK(Parse(w.Run("ADD"))["code"] == kErrInvalidNetworkConfig);
    w.config["cniVersion"] = "0.3.1";
    w.config["zun_conf"] = 5;
    CHECK(Parse(w.Run("ADD"))["code"] == kErrInvalidNetworkConfig);
  }
  CHECK(w.http.requests().size() <= 1);  // only the DEL above
}

TEST_CASE("zun-cni carries the daemon's reason into the error", "[cni]") {
  World w;
  int status = 500;
  std::string body = R"({"reason": "capsule 0b6f not found"})";
  w.daemon = [&](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return HttpResponse{status, {}, body};
  };
  json e = Parse(w.Run("ADD"));
  CHECK(e["code"] == kErrDaemonFailure);
  CHECK(e["msg"] ==
        "zun-cni-daemon failed ADD with HTTP 500: capsule 0b6f "
        "not found");
  status = 504;
  body = R"({"reason": "port 9b2c is DOWN"})";
  e = Parse(w.Run("ADD"));
  CHECK(e["code"] == kErrPortNotActive);
  CHECK(e["msg"].get<std::string>().find("did not become ACTIVE within 60 s") !=
        std::string::npos);
  CHECK(e["msg"].get<std::string>().find("port 9b2c is DOWN") !=
        std::string::npos);
  status = 400;
  body = "";  // upstream's daemon
  e = Parse(w.Run("DEL"));
  CHECK(e["code"] == kErrDaemonFailure);
  CHECK(e["msg"] ==
        "zun-cni-daemon failed DEL with HTTP 400 (no reason given)");
  status = 202;
  body = R"({"versioned_object.name": "VIFVHostUser"})";
  e = Parse(w.Run("ADD"));
  CHECK(e["code"] == kErrDaemonFailure);
  w.daemon = [](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return absl::DeadlineExceededError("timed out");
  };
  CHECK(Parse(w.Run("ADD"))["code"] == kErrDaemonTimeout);
}

TEST_CASE("zun-cni retries while the daemon is unreachable", "[cni]") {
  World w;
  int refusals = 6;
  w.daemon = [&](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    if (refusals-- > 0) return absl::UnavailableError("connection refused");
    return HttpResponse{202, {}, VifToPrimitive(TestVif()).dump()};
  };
  const PluginOutput out = w.Run("ADD");
  CHECK(out.exit_code == 0);
  CHECK(w.http.requests().size() == 7);
  CHECK(w.clock.sleeps == std::vector<absl::Duration>{
                              absl::Milliseconds(100), absl::Milliseconds(200),
                              absl::Milliseconds(400), absl::Milliseconds(800),
                              absl::Seconds(1), absl::Seconds(1)});
}

TEST_CASE("zun-cni gives up after 30 s: try again later", "[cni]") {
  World w;
  w.daemon = [](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return absl::UnavailableError("connection refused");
  };
  const absl::Time start = w.clock.Now();
  const PluginOutput out = w.Run("DEL");
  CHECK(out.exit_code == 1);
  const json e = Parse(out);
  CHECK(e["code"] == kErrTryAgainLater);
  CHECK(e["msg"].get<std::string>().find("127.0.0.1:9036") !=
        std::string::npos);
  CHECK(w.clock.Now() - start == absl::Seconds(30));
  // 100+200+400+800 ms, then 1 s steps to 30 s: 5 + 29 attempts in all.
  CHECK(w.http.requests().size() == 34);
}

}  // namespace
}  // namespace zun::cni
