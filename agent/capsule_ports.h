// File: capsule_ports.h
// A capsule's Neutron ports, as zun-compute's CRI driver makes them, with
// its gaps closed (docs/networking.md):
//  - Bind gives every requested network a port bound to this host: a new
//    one (POST, tenant_id = the capsule's project, device_id = the capsule,
//    device_owner compute:zun, binding:host_id = host, the requested fixed
//    IP) or the user's own (PUT device_id/device_owner/binding:host_id;
//    preserve_on_delete). It returns the `addresses` and `cni_metadata`
//    column values upstream writes, with one VIF per network (eth0 for the
//    first, then eth1, ...). Ports the capsule already has (a recreate, a
//    resumed or redelivered create) are reused, so an address survives a
//    recreated pod and a retry creates no second port.
//  - Release deletes the ports made for the capsule and unbinds the user's
//    (device_id/device_owner cleared, binding:host_id null).
// Ports we create are named "zun-capsule-<uuid>", which tells them from a
// user's port when a crash left no `addresses` to say so.
//
// Errors: Neutron's (openstack/neutron.h); FAILED_PRECONDITION when a port
// cannot be bound here (binding_failed names the host and the reason) or
// no network is known; INVALID_ARGUMENT for a port that is another
// capsule's. Bind rolls back what it did before returning an error.
// Idempotent: both may be repeated after a crash.
//
// Thread-safe (stateless apart from the injected client).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "openstack/neutron.h"

namespace zun::agent {

// One entry of the create RPC's `requested_networks`.
struct RequestedNetwork {
  std::string network;   // Neutron network id
  std::string port;      // the user's port, or ""
  std::string fixed_ip;  // "" unless one was requested
  bool preserve_on_delete = false;
};

// The entries of a `requested_networks` argument (a list of dicts); entries
// without a network or port are skipped.
std::vector<RequestedNetwork> ParseRequestedNetworks(
    const nlohmann::json& list);

struct CapsulePorts {
  nlohmann::json addresses;     // {"<net>": [{"addr", "version", "port",
                                //   "subnet_id", "preserve_on_delete"}]}
  nlohmann::json cni_metadata;  // {"vif": <VIFState>}
};

struct PortOptions {
  std::string host;                   // binding:host_id
  std::string ovs_bridge = "br-int";  // [neutron] ovs_bridge
};

class PortBinder {
 public:
  PortBinder(openstack::NeutronClient& neutron, PortOptions options);

  // `recorded_*` are the capsule row's current columns (null when unset).
  absl::StatusOr<CapsulePorts> Bind(const std::string& uuid,
                                    const std::string& project_id,
                                    const std::vector<RequestedNetwork>& wanted,
                                    const nlohmann::json& recorded_addresses,
                                    const nlohmann::json& recorded_metadata);

  // Releases the ports in `recorded_addresses` and any other port whose
  // device_id is the capsule. OK when they are already gone.
  absl::Status Release(const std::string& uuid,
                       const nlohmann::json& recorded_addresses);

  static std::string PortName(const std::string& uuid);

 private:
  struct Plan;
  absl::Status Unbind(const std::string& port_id);
  absl::StatusOr<nlohmann::json> Acquire(const std::string& uuid,
                                         const std::string& project_id,
                                         const RequestedNetwork& want,
                                         std::vector<nlohmann::json>& mine,
                                         bool& created);

  openstack::NeutronClient& neutron_;
  const PortOptions options_;
};

}  // namespace zun::agent
