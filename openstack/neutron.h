// File: neutron.h
// The Neutron calls of the capsule path (networking v2.0 API): the port
// writes zun-compute makes (create, bind, unbind, delete) and the reads the
// VIF translation and zun-cni-daemon need. Objects are Neutron's JSON as it
// is ("port", "network", "subnet" bodies), so nothing of Neutron's schema is
// copied into a struct that could drift.
//
// Errors: those of ServiceClient::Send (UNAVAILABLE / DEADLINE_EXCEEDED when
// Neutron or Keystone cannot be reached), else the HTTP status mapped by
// StatusFromHttp (404 NOT_FOUND, 409 ABORTED, 400 INVALID_ARGUMENT, ...);
// FAILED_PRECONDITION for an answer that is not the expected JSON.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "openstack/keystone.h"

namespace zun::openstack {

// Thread-safe: every method may be called from any thread.
class NeutronClient {
 public:
  virtual ~NeutronClient() = default;

  // POST /v2.0/ports {"port": port}; the created port.
  virtual absl::StatusOr<nlohmann::json> CreatePort(
      const nlohmann::json& port) = 0;
  // PUT /v2.0/ports/<id> {"port": changes}; the updated port.
  virtual absl::StatusOr<nlohmann::json> UpdatePort(
      const std::string& id, const nlohmann::json& changes) = 0;
  virtual absl::StatusOr<nlohmann::json> ShowPort(const std::string& id) = 0;
  // OK when the port is already gone (404).
  virtual absl::Status DeletePort(const std::string& id) = 0;
  // GET /v2.0/ports?k=v&...; a key may repeat (id=a&id=b).
  virtual absl::StatusOr<std::vector<nlohmann::json>> ListPorts(
      const std::vector<std::pair<std::string, std::string>>& filters) = 0;
  virtual absl::StatusOr<nlohmann::json> ShowNetwork(const std::string& id) = 0;
  // GET /v2.0/networks?k=v&...
  virtual absl::StatusOr<std::vector<nlohmann::json>> ListNetworks(
      const std::vector<std::pair<std::string, std::string>>& filters) = 0;
  virtual absl::StatusOr<nlohmann::json> ShowSubnet(const std::string& id) = 0;
};

// NeutronClient over HTTP, through a ServiceClient of service type
// "network" (the catalog's endpoint, or [neutron_client] endpoint_override).
// Thread-safe.
class HttpNeutronClient : public NeutronClient {
 public:
  explicit HttpNeutronClient(ServiceClient& service);

  absl::StatusOr<nlohmann::json> CreatePort(
      const nlohmann::json& port) override;
  absl::StatusOr<nlohmann::json> UpdatePort(
      const std::string& id, const nlohmann::json& changes) override;
  absl::StatusOr<nlohmann::json> ShowPort(const std::string& id) override;
  absl::Status DeletePort(const std::string& id) override;
  absl::StatusOr<std::vector<nlohmann::json>> ListPorts(
      const std::vector<std::pair<std::string, std::string>>& filters) override;
  absl::StatusOr<nlohmann::json> ShowNetwork(const std::string& id) override;
  absl::StatusOr<std::vector<nlohmann::json>> ListNetworks(
      const std::vector<std::pair<std::string, std::string>>& filters) override;
  absl::StatusOr<nlohmann::json> ShowSubnet(const std::string& id) override;

 private:
  absl::StatusOr<std::vector<nlohmann::json>> List(
      const std::string& what,
      const std::vector<std::pair<std::string, std::string>>& filters);
  // The `key` object of the answer to method+path.
  absl::StatusOr<nlohmann::json> Call(const std::string& method,
                                      const std::string& path,
                                      const std::string& key,
                                      const std::string& what,
                                      const std::string& body = "");
  ServiceClient& service_;
};

// Percent-encodes a query value or path segment (RFC 3986 unreserved kept).
std::string UrlEscape(const std::string& s);

}  // namespace zun::openstack
