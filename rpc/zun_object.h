// File: zun_object.h
// oslo.versionedobjects primitives in Zun's namespace ("zun_object.*", not
// "versioned_object.*"), for the container family: Capsule, CapsuleContainer,
// CapsuleInitContainer and Container. Decoding is strict about types (a
// mistyped field is an error naming it) and tolerant of unknown fields (a
// newer minor version may add some). JsonFields (addresses, exposed_ports,
// healthcheck, annotations, cni_metadata) travel as JSON strings; DateTime as
// "YYYY-MM-DDTHH:MM:SSZ". Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "capsule/model.h"
#include "nlohmann/json.hpp"
#include "rpc/py_json.h"

namespace zun::rpc {

struct ObjectHeader {
  std::string name;     // "Capsule", ...
  std::string ns;       // must be "zun"
  std::string version;  // e.g. "1.4"
};

// The header of a primitive. INVALID_ARGUMENT if it is not one.
absl::StatusOr<ObjectHeader> PeekObject(const nlohmann::json& primitive);

// Decodes a Capsule primitive (with containers/init_containers when the
// message carries them). INVALID_ARGUMENT for another object name, another
// namespace, a major version other than 1, or a mistyped field.
absl::StatusOr<capsule::Capsule> DecodeCapsule(const nlohmann::json& primitive);

// Decodes one container-family record (any of the four names).
absl::StatusOr<capsule::ContainerRecord> DecodeContainerRecord(
    const nlohmann::json& primitive);

// The Capsule primitive of `capsule` at `version` (the version the caller
// sent), children included, as container_show returns it.
OrderedJson EncodeCapsule(const capsule::Capsule& capsule,
                          std::string_view version);

// The versions of Zun's objects (zun/objects/*.py VERSION) that the agent
// writes: every primitive it produces carries one of these.
inline constexpr char kCapsuleVersion[] = "1.4";  // and its children's
inline constexpr char kPciDevicePoolListVersion[] = "1.0";

// compute_node.pci_stats of a node without PCI devices, as Zun's
// ComputeNode.save() writes it: the PciDevicePoolList 1.0 primitive with
// no pools (its "objects" field just set, hence listed as changed).
OrderedJson EmptyPciDevicePoolList();

// "2026-01-02T03:04:05Z" (Zun DateTimeField, microseconds dropped).
std::string FormatObjectTime(absl::Time t);

}  // namespace zun::rpc
