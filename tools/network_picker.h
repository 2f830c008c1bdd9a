// File: network_picker.h
// The `requested_networks` of a capsule create, as zun-api builds them
// (zun/common/utils.py build_requested_networks) from `--net` options:
//   network=ID[,v4-fixed-ip=IP|v6-fixed-ip=IP]   a port on that network
//   port=ID                                      the user's own port
// Without any, the project's oldest network of its own, else the oldest
// shared one (zun-api's get_available_network).
//
// Entries: {"network", "port", "router:external", "shared", "fixed_ip",
// "preserve_on_delete"} (preserve_on_delete true only for a user's port).
// Errors: INVALID_ARGUMENT for a malformed --net; FAILED_PRECONDITION when
// a port is unusable (bound to a device, another project's, or
// binding_failed) or no network is available; Neutron's errors otherwise.
// Thread-compatible (pure apart from the Neutron reads).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "openstack/neutron.h"

namespace zun::tools {

absl::StatusOr<nlohmann::json> RequestedNetworks(
    openstack::NeutronClient& neutron, const std::string& project,
    const std::vector<std::string>& net_options);

}  // namespace zun::tools
