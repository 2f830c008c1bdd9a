// File: capsule_cli.h
// Runs build/bin/zun-capsule as an operator would, for tests.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tests/support/subprocess.h"

namespace zun::testing {

// zun-capsule --config-file `config` ARGS...; the exit code and output.
CommandResult ZunCapsule(const std::string& config,
                         const std::vector<std::string>& args,
                         absl::Duration timeout = absl::Seconds(120));
// The JSON document in a --json output (stderr lines around it skipped);
// null if there is none.
nlohmann::json JsonOf(const std::string& output);
// etc/capsules/NAME in the source tree.
std::string SampleTemplate(const std::string& name);

}  // namespace zun::testing
