// File: labels.h
// The ownership labels zun-agent stamps on every CRI sandbox and container it
// creates. They are a contract: recovery, the reconciler and orphan
// collection find the agent's objects by them, so keys never change without
// a migration. See docs/cri-contract.md.
//
//   sandbox:   zun.openstack.org/managed-by   = "zun-agent"
//              zun.openstack.org/host         = <[DEFAULT] host>
//              zun.openstack.org/capsule-uuid = <capsule uuid>
//   container: the three above, plus
//              zun.openstack.org/container-uuid = <child uuid>
//              zun.openstack.org/container-type = "init" | "container"
#pragma once

#include <string_view>

namespace zun::capsule {

inline constexpr std::string_view kLabelPrefix = "zun.openstack.org/";
inline constexpr std::string_view kLabelManagedBy =
    "zun.openstack.org/managed-by";
inline constexpr std::string_view kManagedByValue = "zun-agent";
inline constexpr std::string_view kLabelHost = "zun.openstack.org/host";
inline constexpr std::string_view kLabelCapsuleUuid =
    "zun.openstack.org/capsule-uuid";
inline constexpr std::string_view kLabelContainerUuid =
    "zun.openstack.org/container-uuid";
inline constexpr std::string_view kLabelContainerType =
    "zun.openstack.org/container-type";
inline constexpr std::string_view kContainerTypeInit = "init";
inline constexpr std::string_view kContainerTypeRegular = "container";

}  // namespace zun::capsule
