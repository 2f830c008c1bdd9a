// File: fuzz_common.h
// Shared by the fuzz targets: silence logging, and run a decoded capsule
// through everything the create path does before the runtime sees it.
#pragma once

#include "capsule/model.h"

namespace zun::fuzz {

// Logging off (once).
void Quiet();
// ValidateCapsule, RuntimeHandlerFor and, when valid, BuildSandboxConfig and
// BuildContainerConfig for every child, with a permissive and a strict
// mapper configuration.
void MapCapsule(const capsule::Capsule& c);

}  // namespace zun::fuzz
