// `make run` as an operator uses it: scripts/run.sh brings up RabbitMQ,
// PostgreSQL, Keystone, Placement, containerd (images, registry) and the
// agent; a capsule from a sample is scheduled through Placement and runs;
// Ctrl-C (SIGINT) takes everything down again. In local mode the pod sits
// on the node's CNI bridge and serves on its pod IP; in neutron mode (the
// default) it gets a port on a tenant network of a private Neutron, plugged
// by zun-cni-daemon, and serves inside that network only. Each test has its
// own ports, directories, links and subnet, so it does not meet the other
// tests' servers.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "cri/grpc_cri_client.h"
#include "openstack/curl_http_client.h"
#include "openstack/keystone.h"
#include "openstack/neutron.h"
#include "tests/support/capsule_cli.h"
#include "tests/support/http.h"
#include "tests/support/poll.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Processes whose command line mentions `needle`.
int ProcessesMentioning(const std::string& needle) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
      continue;
    }
    std::string cmdline = Slurp(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (absl::StrContains(cmdline, needle)) ++n;
  }
  return n;
}

TEST_CASE(
    "make run: the whole node comes up, runs a capsule, and Ctrl-C "
    "cleans up everything") {
  // ZUN_RUN_NETWORK=local: the node's CNI bridge, which the host reaches.
  ScopedTempDir dir("mr");
  const std::string cri_dir = "/tmp/zun-mr-ctd";
  const int metrics_port = FreeTcpPort();
  const std::string ip_forward_before = Slurp("/proc/sys/net/ipv4/ip_forward");
  const std::map<std::string, std::string> env = {
      {"ZUN_RUN_NETWORK", "local"},
      {"ZUN_RUN_DIR", dir.path() + "/run"},
      {"ZUN_RUN_RMQ_PORT", "5713"},
      {"ZUN_RUN_PG_PORT", "5447"},
      {"ZUN_RUN_METRICS", "127.0.0.1:" + std::to_string(metrics_port)},
      {"ZUN_RUN_CRI_DIR", cri_dir},
      {"ZUN_RUN_CNI_BRIDGE", "zunmr0"},
      {"ZUN_RUN_CNI_SUBNET", "10.233.81.0/24"},
      {"ZUN_RUN_REGISTRY", "127.0.0.1:5003"},
      {"ZUN_RUN_CGROUP_ROOT", "zun-mr"},
      {"ZUN_RUN_KEYSTONE_PORT", "21520"},
      {"ZUN_RUN_PLACEMENT_PORT", "21798"},
      {"ZUN_RUN_HOST", "make-run-node"}};
  auto run = Subprocess::Start({SourceDir() + "/scripts/run.sh", "containerd"},
                               dir.path() + "/run.log", env);
  REQUIRE(run.ok());
  const std::string conf = dir.path() + "/run/zun-agent.conf";
  const bool up = PollUntil(
      [&] {
        auto r = HttpRequest(metrics_port, "GET", "/healthz");
        return r.ok() && r->status == 200;
      },
      absl::Seconds(300), absl::Milliseconds(500));
  if (!up)
    FAIL("the stack did not come up:\n" + ReadFile(dir.path() + "/run.log"));
  CommandResult created =
      ZunCapsule(conf, {"create", "-f", SampleTemplate("web.yaml"), "--json"});
  INFO(created.output);
  REQUIRE(created.exit_code == 0);
  const std::string uuid = JsonOf(created.output)["uuid"];
  // Zun's way: the node's Placement provider was chosen and claimed.
  CHECK_THAT(created.output,
             Catch::Contains("scheduled to host 'make-run-node' by Placement"));
  CommandResult waited = ZunCapsule(
      conf, {"wait", uuid, "--status", "Running", "--timeout", "120", "--json"},
      absl::Seconds(150));
  if (waited.exit_code != 0) {
    FAIL(waited.output + "\n" + ReadFile(dir.path() + "/run.log"));
  }
  nlohmann::json c = JsonOf(waited.output);
  const std::string ip = c["addresses"].begin().value()[0]["addr"];
  CHECK(absl::StartsWith(ip, "10.233.81."));
  absl::StatusOr<HttpResponse> page;
  REQUIRE(PollUntil([&] {
    page = HttpRequestTo(ip, 8080, "GET", "/index.html");
    return page.ok() && page->status == 200;
  }));
  CHECK(absl::StrContains(page->body, "hello from zun"));
  CHECK(ProcessesMentioning(cri_dir) > 0);

  // Ctrl-C: the capsule is running; everything goes.
  REQUIRE((*run)->Signal(SIGINT).ok());
  absl::StatusOr<int> rc = (*run)->Wait(absl::Seconds(240));
  REQUIRE(rc.ok());
  const std::string log = ReadFile(dir.path() + "/run.log");
  INFO(log);
  CHECK(ProcessesMentioning(cri_dir) == 0);     // containerd, shims, registry
  CHECK(ProcessesMentioning("-p 5447 ") == 0);  // PostgreSQL
  CHECK(ProcessesMentioning("zun-run-rmq-5713") == 0);             // RabbitMQ
  CHECK(ProcessesMentioning(conf) == 0);                           // the agent
  CHECK(ProcessesMentioning(dir.path() + "/run/keystone") == 0);   // uwsgi
  CHECK(ProcessesMentioning(dir.path() + "/run/placement") == 0);  // uwsgi
  CHECK_FALSE(fs::exists("/sys/class/net/zunmr0"));
  CHECK_FALSE(fs::exists(cri_dir));
  CHECK_FALSE(absl::StrContains(Slurp("/proc/self/mountinfo"), cri_dir));
  std::error_code ec;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    CHECK_FALSE(fs::exists(h.path() / "zun-mr"));
  }
  CHECK(Slurp("/proc/sys/net/ipv4/ip_forward") == ip_forward_before);
}

// A Neutron client as user zun (role admin in project service) of the run's
// Keystone.
class RunNeutron {
 public:
  explicit RunNeutron(const std::string& keystone_url) {
    openstack::KeystoneAuthOptions o;
    o.auth_type = "password";
    o.auth_url = keystone_url;
    o.username = "zun";
    o.password = "zun";
    o.project_name = "service";
    session_ = std::make_unique<openstack::KeystoneSession>(
        http_, RealClock::Default(), o);
    openstack::ServiceEndpoint endpoint;
    endpoint.service_type = "network";
    service_ = std::make_unique<openstack::ServiceClient>(
        http_, *session_, endpoint, openstack::TlsOptions{}, absl::Seconds(30));
    neutron_ = std::make_unique<openstack::HttpNeutronClient>(*service_);
  }
  openstack::NeutronClient* operator->() { return neutron_.get(); }

 private:
  openstack::CurlHttpClient http_;
  std::unique_ptr<openstack::KeystoneSession> session_;
  std::unique_ptr<openstack::ServiceClient> service_;
  std::unique_ptr<openstack::NeutronClient> neutron_;
};

std::string ContainerIdOf(const nlohmann::json& capsule,
                          const std::string& name) {
  for (const auto& c : capsule["containers"]) {
    if (c["name"] == name && c["container_id"].is_string()) {
      return c["container_id"];
    }
  }
  return "";
}

TEST_CASE(
    "make run in neutron mode: the capsule gets a Neutron port and Ctrl-C "
    "cleans up everything") {
  ScopedTempDir dir("mrn");
  const std::string cri_dir = "/tmp/zun-mrn-ctd";
  const std::string phys_if = "zunmrphys0";
  const std::string host = "make-run-net-node";
  const std::string keystone_url = "http://127.0.0.1:21540/v3";
  const int metrics_port = FreeTcpPort();
  const int cni_daemon_port = FreeTcpPort();
  const std::string ip_forward_before = Slurp("/proc/sys/net/ipv4/ip_forward");
  // Apart from the local-mode test above, the openstack fixture (21510,
  // 21788, 21696, 21936, zunosphys0, /tmp/zun-net-ctd) and the e2e fixture
  // (5693, 5444, /tmp/zun-e2e-ctd, 5001).
  const std::map<std::string, std::string> env = {
      {"ZUN_RUN_NETWORK", "neutron"},
      {"ZUN_RUN_DIR", dir.path() + "/run"},
      {"ZUN_RUN_RMQ_PORT", "5714"},
      {"ZUN_RUN_PG_PORT", "5448"},
      {"ZUN_RUN_METRICS", "127.0.0.1:" + std::to_string(metrics_port)},
      {"ZUN_RUN_CRI_DIR", cri_dir},
      {"ZUN_RUN_REGISTRY", "127.0.0.1:5006"},
      {"ZUN_RUN_CGROUP_ROOT", "zun-mrn"},
      {"ZUN_RUN_KEYSTONE_PORT", "21540"},
      {"ZUN_RUN_PLACEMENT_PORT", "21818"},
      {"ZUN_RUN_NEUTRON_PORT", "21716"},
      {"ZUN_RUN_CNI_DAEMON_PORT", std::to_string(cni_daemon_port)},
      {"ZUN_RUN_PHYS_IF", phys_if},
      {"ZUN_RUN_TENANT_SUBNET", "10.233.82.0/24"},
      {"ZUN_RUN_HOST", host}};
  auto run = Subprocess::Start({SourceDir() + "/scripts/run.sh", "containerd"},
                               dir.path() + "/run.log", env);
  REQUIRE(run.ok());
  const std::string conf = dir.path() + "/run/zun-agent.conf";
  const bool up = PollUntil(
      [&] {
        auto r = HttpRequest(metrics_port, "GET", "/healthz");
        return r.ok() && r->status == 200;
      },
      absl::Seconds(400), absl::Milliseconds(500));
  if (!up)
    FAIL("the stack did not come up:\n" + ReadFile(dir.path() + "/run.log"));
  {
    auto daemon = HttpRequest(cni_daemon_port, "GET", "/healthz");
    REQUIRE(daemon.ok());
    CHECK(daemon->status == 200);
  }
  CHECK_THAT(Slurp(conf), Catch::Contains("driver = cni"));

  // zun-capsule picks the network itself: the only one, shared.
  CommandResult created =
      ZunCapsule(conf, {"create", "-f", SampleTemplate("web.yaml"), "--json"});
  INFO(created.output);
  REQUIRE(created.exit_code == 0);
  const std::string uuid = JsonOf(created.output)["uuid"];
  CHECK_THAT(created.output,
             Catch::Contains("scheduled to host '" + host + "' by Placement"));
  CommandResult waited = ZunCapsule(
      conf, {"wait", uuid, "--status", "Running", "--timeout", "150", "--json"},
      absl::Seconds(180));
  if (waited.exit_code != 0) {
    FAIL(waited.output + "\n" + ReadFile(dir.path() + "/run.log") + "\n" +
         ReadFile(dir.path() + "/run/zun-cni-daemon.log"));
  }
  nlohmann::json c = JsonOf(waited.output);
  INFO(c.dump(2));
  REQUIRE(c["addresses"].size() == 1);
  const std::string net_id = c["addresses"].begin().key();
  const nlohmann::json address = c["addresses"].begin().value()[0];
  const std::string ip = address["addr"];
  CHECK(absl::StartsWith(ip, "10.233.82."));
  REQUIRE(address["port"].is_string());
  REQUIRE(address["subnet_id"].is_string());
  const std::string port_id = address["port"];
  CHECK_FALSE(port_id.empty());
  CHECK_FALSE(address["subnet_id"].get<std::string>().empty());

  // Neutron's view, through the run's Keystone: the port is ACTIVE, bound to
  // this host, on zun-run-net.
  RunNeutron neutron(keystone_url);
  absl::StatusOr<nlohmann::json> port = neutron->ShowPort(port_id);
  REQUIRE(port.ok());
  INFO(port->dump(2));
  CHECK((*port)["status"] == "ACTIVE");
  CHECK((*port)["device_id"] == uuid);
  CHECK((*port)["binding:host_id"] == host);
  CHECK((*port)["network_id"] == net_id);
  absl::StatusOr<nlohmann::json> net = neutron->ShowNetwork(net_id);
  REQUIRE(net.ok());
  CHECK((*net)["name"] == "zun-run-net");
  CHECK((*net)["shared"] == true);
  CHECK((*net)["port_security_enabled"] == false);

  // The pod serves on its tenant address. Asked from inside the pod (its
  // sidecar, through the run's containerd): the host has no route to the
  // tenant network.
  const std::string sidecar = ContainerIdOf(c, "capsule-web-sidecar");
  REQUIRE_FALSE(sidecar.empty());
  cri::GrpcCriOptions cri_options;
  cri_options.runtime_endpoint = "unix://" + cri_dir + "/containerd.sock";
  auto cri = cri::GrpcCriClient::Create(cri_options, RealClock::Default());
  REQUIRE(cri.ok());
  std::string page;
  CHECK(PollUntil(
      [&] {
        auto r = (*cri)->ExecSync(
            sidecar,
            {"sh", "-c",
             "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 " + ip +
                 " 8080"},
            absl::Seconds(30));
        page = r.ok() ? r->stdout_data : std::string(r.status().message());
        return absl::StrContains(page, "hello from zun");
      },
      absl::Seconds(30), absl::Milliseconds(500)));
  INFO(page);
  CHECK(absl::StrContains(page, "200 OK"));
  cri->reset();
  const std::string bridge = "brq" + net_id.substr(0, 11);
  const std::string tap = "tap" + port_id.substr(0, 11);
  CHECK(fs::exists("/sys/class/net/" + bridge));
  CHECK(fs::exists("/sys/class/net/" + tap));
  CHECK(fs::exists("/sys/class/net/" + phys_if));
  CHECK(ProcessesMentioning(dir.path() + "/run/neutron") > 0);

  // Ctrl-C: the capsule is running; everything goes.
  REQUIRE((*run)->Signal(SIGINT).ok());
  absl::StatusOr<int> rc = (*run)->Wait(absl::Seconds(300));
  REQUIRE(rc.ok());
  const std::string log = ReadFile(dir.path() + "/run.log");
  INFO(log);
  CHECK(ProcessesMentioning(cri_dir) == 0);     // containerd, shims, registry
  CHECK(ProcessesMentioning("-p 5448 ") == 0);  // PostgreSQL
  CHECK(ProcessesMentioning("zun-run-rmq-5714") == 0);  // RabbitMQ
  CHECK(ProcessesMentioning(conf) == 0);  // the agent and zun-cni-daemon
  CHECK(ProcessesMentioning(dir.path() + "/run/keystone") == 0);   // uwsgi
  CHECK(ProcessesMentioning(dir.path() + "/run/placement") == 0);  // uwsgi
  // neutron-server, its workers, the L2 agent and its privsep helpers
  CHECK(ProcessesMentioning(dir.path() + "/run/neutron") == 0);
  CHECK_FALSE(HttpRequest(cni_daemon_port, "GET", "/healthz").ok());
  CHECK_FALSE(fs::exists("/sys/class/net/" + bridge));
  CHECK_FALSE(fs::exists("/sys/class/net/" + tap));
  CHECK_FALSE(fs::exists("/sys/class/net/" + phys_if));
  CHECK_FALSE(fs::exists("/sys/class/net/zunmrphys1"));
  CHECK_FALSE(fs::exists(dir.path() + "/run/neutron"));
  CHECK_FALSE(fs::exists(dir.path() + "/run/cni"));  // the daemon's records
  CHECK_FALSE(fs::exists(cri_dir));
  CHECK_FALSE(absl::StrContains(Slurp("/proc/self/mountinfo"), cri_dir));
  std::error_code ec;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    CHECK_FALSE(fs::exists(h.path() / "zun-mrn"));
  }
  CHECK(Slurp("/proc/sys/net/ipv4/ip_forward") == ip_forward_before);
}

}  // namespace
}  // namespace zun::testing
