// File: openstack_clients.h
// The OpenStack clients a configuration asks for: one HTTP client, one
// Keystone session ([keystone_auth]) and the Placement client
// ([placement_client]) and the Neutron client ([neutron_client]), owned
// together. Used by zun-agent and zun-capsule.
//
// The bundle is thread-safe once built (each client is); build it once.
#pragma once

#include <memory>

#include "common/clock.h"
#include "config/config.h"
#include "openstack/http_placement_client.h"
#include "openstack/keystone.h"
#include "openstack/neutron.h"

namespace zun::config {

// [keystone_auth] as session options (an auth_url without auth_type means
// password; user and project domains fall back to default_domain_*).
openstack::KeystoneAuthOptions KeystoneAuthFrom(const AgentConfig& config);

struct OpenStackClients {
  std::unique_ptr<openstack::HttpClient> http;
  std::unique_ptr<openstack::KeystoneSession> session;
  std::unique_ptr<openstack::ServiceClient> placement_service;
  std::unique_ptr<openstack::HttpPlacementClient> placement;
  // [neutron_client]: service type "network".
  std::unique_ptr<openstack::ServiceClient> neutron_service;
  std::unique_ptr<openstack::HttpNeutronClient> neutron;
};

// The clients of `config`, or null when it configures no Keystone
// credentials (PlacementConfigured is false). Nothing is contacted here.
std::unique_ptr<OpenStackClients> MakeOpenStackClients(
    const AgentConfig& config, Clock& clock);

}  // namespace zun::config
