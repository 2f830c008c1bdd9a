// File: openstack_env.h
// What the openstack tests share: the Keystone and Placement started by the
// ctest fixture `openstack` (scripts/test-openstack.sh writes
// <build>/test-env-openstack/openstack.env), a Keystone admin for users and
// revocations, and a Placement client to assert through Placement's API.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "openstack/http_placement_client.h"
#include "openstack/keystone.h"
#include "openstack/neutron.h"

namespace zun::testing {

struct OpenStackEnv {
  std::string keystone_url;   // http://127.0.0.1:PORT/v3
  std::string placement_url;  // http://127.0.0.1:PORT
  int placement_port = 0;
  std::string keystone_dir;
  std::string placement_dir;
  std::string scripts;
  // Neutron and the containerd whose CNI is zun-cni (networking tests).
  std::string neutron_url;
  std::string neutron_host;    // the L2 agent's host: bind ports there
  std::string net_cri_socket;  // unix:///.../containerd.sock
  std::string net_cri_dir;
  std::string net_cgroup_root;  // its pods' cgroup parent
  std::string cni_conf;         // the zun_conf of the CNI config
  int cni_daemon_port = 0;

  // Loads openstack.env; aborts with a clear message if the fixture did not
  // run.
  static const OpenStackEnv& Get();

  // [keystone_auth] for a user of project service (the agent's and
  // zun-capsule's credentials).
  std::string KeystoneAuthConfig(const std::string& user = "zun",
                                 const std::string& password = "zun") const;

  // Stops / starts Placement (its database stays).
  absl::Status StopPlacement() const;
  absl::Status StartPlacement() const;
};

// Keystone admin calls (as admin in project admin).
class KeystoneAdmin {
 public:
  KeystoneAdmin();
  ~KeystoneAdmin();
  // A user with role admin in project service; returns its id.
  absl::StatusOr<std::string> CreateServiceUser(const std::string& name,
                                                const std::string& password);
  // Disabling a user revokes every token it holds.
  absl::Status SetUserEnabled(const std::string& user_id, bool enabled);

 private:
  absl::StatusOr<openstack::HttpResponse> Send(const std::string& method,
                                               const std::string& path,
                                               const std::string& body = "");
  std::unique_ptr<openstack::HttpClient> http_;
  std::unique_ptr<openstack::KeystoneSession> session_;
};

// A Neutron client as user zun (role admin in project service).
class TestNeutron {
 public:
  TestNeutron();
  ~TestNeutron();
  openstack::NeutronClient& operator*() { return *neutron_; }
  openstack::NeutronClient* operator->() { return neutron_.get(); }
  // The raw service, for calls the client has no method for.
  openstack::ServiceClient& service() { return *service_; }

 private:
  std::unique_ptr<openstack::HttpClient> http_;
  std::unique_ptr<openstack::KeystoneSession> session_;
  std::unique_ptr<openstack::ServiceClient> service_;
  std::unique_ptr<openstack::NeutronClient> neutron_;
};

// A Placement client as user zun (role admin in project service).
class TestPlacement {
 public:
  TestPlacement();
  ~TestPlacement();
  openstack::PlacementClient& operator*() { return *placement_; }
  openstack::PlacementClient* operator->() { return placement_.get(); }
  // Removes the providers named `name` with their allocations (a host
  // name an earlier test's agent registered).
  absl::Status RemoveProviders(const std::string& name);

 private:
  std::unique_ptr<openstack::HttpClient> http_;
  std::unique_ptr<openstack::KeystoneSession> session_;
  std::unique_ptr<openstack::ServiceClient> service_;
  std::unique_ptr<openstack::HttpPlacementClient> placement_;
};

}  // namespace zun::testing
