#include "config/openstack_clients.h"

#include "openstack/curl_http_client.h"

namespace zun::config {

openstack::KeystoneAuthOptions KeystoneAuthFrom(const AgentConfig& c) {
  const AgentConfig::KeystoneAuth& k = c.keystone_auth;
  openstack::KeystoneAuthOptions o;
  o.auth_type =
      k.auth_type.empty() && !k.auth_url.empty() ? "password" : k.auth_type;
  o.auth_url = k.auth_url;
  o.username = k.username;
  o.user_id = k.user_id;
  o.password = k.password;
  const bool user_domain =
      !k.user_domain_name.empty() || !k.user_domain_id.empty();
  o.user_domain_name = user_domain ? k.user_domain_name : k.default_domain_name;
  o.user_domain_id = user_domain ? k.user_domain_id : k.default_domain_id;
  const bool project_domain =
      !k.project_domain_name.empty() || !k.project_domain_id.empty();
  o.project_name = k.project_name;
  o.project_id = k.project_id;
  o.project_domain_name =
      project_domain ? k.project_domain_name : k.default_domain_name;
  o.project_domain_id =
      project_domain ? k.project_domain_id : k.default_domain_id;
  o.token = k.token;
  o.endpoint = k.endpoint;
  o.tls.ca_file = k.cafile;
  o.tls.cert_file = k.certfile;
  o.tls.key_file = k.keyfile;
  o.tls.insecure = k.insecure;
  o.timeout = k.timeout;
  return o;
}

namespace {

std::unique_ptr<openstack::ServiceClient> ServiceFor(
    OpenStackClients& clients, const AgentConfig::ServiceClient& p,
    const std::string& type, std::map<std::string, std::string> headers) {
  openstack::ServiceEndpoint endpoint;
  endpoint.service_type = type;
  endpoint.interface = p.endpoint_type;
  endpoint.region_name = p.region_name;
  endpoint.endpoint_override = p.endpoint_override;
  openstack::TlsOptions tls;
  tls.ca_file = p.ca_file;
  tls.cert_file = p.cert_file;
  tls.key_file = p.key_file;
  tls.insecure = p.insecure;
  return std::make_unique<openstack::ServiceClient>(
      *clients.http, *clients.session, endpoint, tls, p.timeout,
      std::move(headers));
}

}  // namespace

std::unique_ptr<OpenStackClients> MakeOpenStackClients(const AgentConfig& c,
                                                       Clock& clock) {
  if (!PlacementConfigured(c)) return nullptr;
  auto out = std::make_unique<OpenStackClients>();
  out->http = std::make_unique<openstack::CurlHttpClient>();
  out->session = std::make_unique<openstack::KeystoneSession>(
      *out->http, clock, KeystoneAuthFrom(c));
  out->placement_service = ServiceFor(*out, c.placement_client, "placement",
                                      openstack::PlacementHeaders());
  out->placement =
      std::make_unique<openstack::HttpPlacementClient>(*out->placement_service);
  out->neutron_service = ServiceFor(*out, c.neutron_client, "network", {});
  out->neutron =
      std::make_unique<openstack::HttpNeutronClient>(*out->neutron_service);
  return out;
}

}  // namespace zun::config
