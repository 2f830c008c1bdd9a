// File: capsule_checks.h
// Catch assertions shared by suites that drive an agent through a harness.
#pragma once

#include "capsule/model.h"
#include "tests/support/agent_harness.h"

namespace zun::testing {

// Exactly one sandbox in the runtime and one create event in the database
// for `c` (nothing was created twice).
void CheckCreatedOnce(AgentHarness& h, const capsule::Capsule& c);

}  // namespace zun::testing
