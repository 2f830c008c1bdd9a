// File: capsule_view.h
// How zun-capsule shows capsules: JSON shaped like the Zun API's capsule
// view (uuid, name, status, host, addresses, containers, init_containers,
// ...) and readable tables. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "capsule/model.h"
#include "nlohmann/json.hpp"

namespace zun::tools {

nlohmann::ordered_json CapsuleJson(const capsule::Capsule& c);

// One line per capsule: UUID NAME STATUS HOST ADDRESSES CONTAINERS.
std::string CapsuleTable(const std::vector<capsule::Capsule>& capsules);
// The capsule's fields, then a table of its containers.
std::string CapsuleDetail(const capsule::Capsule& c);
// The IPs in `addresses`, comma separated.
std::string AddressList(const nlohmann::json& addresses);

}  // namespace zun::tools
