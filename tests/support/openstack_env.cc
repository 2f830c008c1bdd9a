#include "tests/support/openstack_env.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"
#include "openstack/curl_http_client.h"
#include "tests/support/subprocess.h"

namespace zun::testing {
namespace {

openstack::KeystoneAuthOptions PasswordAuth(const std::string& user,
                                            const std::string& password,
                                            const std::string& project) {
  openstack::KeystoneAuthOptions o;
  o.auth_type = "password";
  o.auth_url = OpenStackEnv::Get().keystone_url;
  o.username = user;
  o.password = password;
  o.project_name = project;
  o.timeout = absl::Seconds(30);
  return o;
}

}  // namespace

const OpenStackEnv& OpenStackEnv::Get() {
  static const OpenStackEnv* env = [] {
    const char* dir = std::getenv("ZUN_TEST_ENV_DIR");
    const std::string path =
        std::string(dir != nullptr ? dir : ZUN_TEST_OPENSTACK_DIR) +
        "/openstack.env";
    std::ifstream in(path);
    if (!in) {
      std::cerr << "OpenStack test services are not running: " << path
                << " is missing (run through ctest, which starts the "
                   "`openstack` fixture)\n";
      std::abort();
    }
    std::map<std::string, std::string> kv;
    std::string line;
    while (std::getline(in, line)) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
    auto* e = new OpenStackEnv;
    e->keystone_url = kv["ZUN_TEST_KEYSTONE_URL"];
    e->placement_url = kv["ZUN_TEST_PLACEMENT_URL"];
    (void)absl::SimpleAtoi(kv["ZUN_TEST_PLACEMENT_PORT"], &e->placement_port);
    e->keystone_dir = kv["ZUN_TEST_KEYSTONE_DIR"];
    e->placement_dir = kv["ZUN_TEST_PLACEMENT_DIR"];
    e->scripts = kv["ZUN_TEST_SCRIPTS"];
    e->neutron_url = kv["ZUN_TEST_NEUTRON_URL"];
    e->neutron_host = kv["ZUN_TEST_NEUTRON_HOST"];
    e->net_cri_socket = "unix://" + kv["ZUN_TEST_NET_CRI_SOCKET"];
    e->net_cgroup_root = kv["ZUN_TEST_NET_CGROUP_ROOT"];
    e->net_cri_dir = kv["ZUN_TEST_NET_CRI_DIR"];
    e->cni_conf = kv["ZUN_TEST_CNI_CONF"];
    (void)absl::SimpleAtoi(kv["ZUN_TEST_CNI_DAEMON_PORT"], &e->cni_daemon_port);
    return e;
  }();
  return *env;
}

std::string OpenStackEnv::KeystoneAuthConfig(
    const std::string& user, const std::string& password) const {
  return absl::StrCat(
      "\n[keystone_auth]\nauth_type = password\nauth_url = ", keystone_url,
      "\nusername = ", user, "\npassword = ", password,
      "\nproject_name = service\nuser_domain_name = Default\n"
      "project_domain_name = Default\n");
}

absl::Status OpenStackEnv::StopPlacement() const {
  absl::StatusOr<CommandResult> r = RunCommand(
      {scripts + "/stop-placement.sh", placement_dir}, absl::Seconds(60));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return absl::InternalError(r->output);
  return absl::OkStatus();
}

absl::Status OpenStackEnv::StartPlacement() const {
  absl::StatusOr<CommandResult> r =
      RunCommand({scripts + "/start-placement.sh", placement_dir,
                  std::to_string(placement_port), keystone_url},
                 absl::Seconds(120), {{"PLACEMENT_TOKEN_CACHE_TIME", "-1"}});
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return absl::InternalError(r->output);
  return absl::OkStatus();
}

KeystoneAdmin::KeystoneAdmin()
    : http_(std::make_unique<openstack::CurlHttpClient>()),
      session_(std::make_unique<openstack::KeystoneSession>(
          *http_, RealClock::Default(),
          PasswordAuth("admin", "admin", "admin"))) {}

KeystoneAdmin::~KeystoneAdmin() = default;

absl::StatusOr<openstack::HttpResponse> KeystoneAdmin::Send(
    const std::string& method, const std::string& path,
    const std::string& body) {
  absl::StatusOr<std::string> token = session_->Token();
  if (!token.ok()) return token.status();
  openstack::HttpRequest req;
  req.method = method;
  req.url = OpenStackEnv::Get().keystone_url + path;
  req.headers = {{"X-Auth-Token", *token},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body = body;
  absl::StatusOr<openstack::HttpResponse> r = http_->Do(req);
  if (!r.ok()) return r.status();
  if (absl::Status s = openstack::StatusFromHttp(*r, method + " " + path);
      !s.ok()) {
    return s;
  }
  return r;
}

absl::StatusOr<std::string> KeystoneAdmin::CreateServiceUser(
    const std::string& name, const std::string& password) {
  auto project = Send("GET", "/projects?name=service");
  if (!project.ok()) return project.status();
  auto role = Send("GET", "/roles?name=admin");
  if (!role.ok()) return role.status();
  const std::string project_id =
      nlohmann::json::parse(project->body)["projects"][0]["id"];
  const std::string role_id =
      nlohmann::json::parse(role->body)["roles"][0]["id"];
  auto user = Send("POST", "/users",
                   nlohmann::json{{"user",
                                   {{"name", name},
                                    {"password", password},
                                    {"domain_id", "default"},
                                    {"enabled", true}}}}
                       .dump());
  if (!user.ok()) return user.status();
  const std::string user_id = nlohmann::json::parse(user->body)["user"]["id"];
  auto grant = Send("PUT", absl::StrCat("/projects/", project_id, "/users/",
                                        user_id, "/roles/", role_id));
  if (!grant.ok()) return grant.status();
  return user_id;
}

absl::Status KeystoneAdmin::SetUserEnabled(const std::string& user_id,
                                           bool enabled) {
  return Send("PATCH", "/users/" + user_id,
              nlohmann::json{{"user", {{"enabled", enabled}}}}.dump())
      .status();
}

TestPlacement::TestPlacement()
    : http_(std::make_unique<openstack::CurlHttpClient>()),
      session_(std::make_unique<openstack::KeystoneSession>(
          *http_, RealClock::Default(), PasswordAuth("zun", "zun", "service"))),
      service_(std::make_unique<openstack::ServiceClient>(
          *http_, *session_,
          openstack::ServiceEndpoint{"placement", "public", "", ""},
          openstack::TlsOptions{}, absl::Seconds(30),
          openstack::PlacementHeaders())),
      placement_(std::make_unique<openstack::HttpPlacementClient>(*service_)) {}

TestPlacement::~TestPlacement() = default;

}  // namespace zun::testing

namespace zun::testing {

absl::Status TestPlacement::RemoveProviders(const std::string& name) {
  absl::StatusOr<std::vector<openstack::ResourceProvider>> rps =
      placement_->FindProviders(name);
  if (!rps.ok()) return rps.status();
  for (const openstack::ResourceProvider& rp : *rps) {
    auto allocations = placement_->ProviderAllocations(rp.uuid);
    if (allocations.ok()) {
      for (const auto& [consumer, r] : *allocations) {
        placement_->DeleteAllocations(consumer).IgnoreError();
      }
    }
    absl::StatusOr<openstack::HttpResponse> r =
        service_->Send("DELETE", "/resource_providers/" + rp.uuid);
    if (!r.ok()) return r.status();
    if (r->status != 204 && r->status != 404) {
      return absl::InternalError("cannot delete provider: " + r->body);
    }
  }
  return absl::OkStatus();
}

TestNeutron::TestNeutron()
    : http_(std::make_unique<openstack::CurlHttpClient>()),
      session_(std::make_unique<openstack::KeystoneSession>(
          *http_, RealClock::Default(),
          PasswordAuth("zun", "zun", "service"))) {
  openstack::ServiceEndpoint endpoint;
  endpoint.service_type = "network";
  service_ = std::make_unique<openstack::ServiceClient>(
      *http_, *session_, endpoint, openstack::TlsOptions{}, absl::Seconds(30));
  neutron_ = std::make_unique<openstack::HttpNeutronClient>(*service_);
}

TestNeutron::~TestNeutron() = default;

}  // namespace zun::testing
