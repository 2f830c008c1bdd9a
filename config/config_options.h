// File: config_options.h  (internal to agent/)
// zun.conf's option table: every option the agent reads, with the field of
// AgentConfig it sets, plus the sections it skips. config.cc parses, renders
// and validates with it. Immutable after first use: thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "config/config.h"

namespace zun::config::config_internal {

using StringList = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;
struct Ignored {};
using OptDouble = std::optional<double>;
using FieldRef =
    std::variant<std::string*, int*, bool*, absl::Duration*, double*,
                 OptDouble*, StringList*, StringMap*, Ignored>;

struct OptionDef {
  const char* section;
  const char* name;
  std::function<FieldRef(AgentConfig&)> field;
  bool secret = false;    // a URL with credentials: shown redacted
  bool password = false;  // shown as *** when set
};

// Every option, in the order DescribeConfig prints them.
const std::vector<OptionDef>& Options();
// Sections of zun.conf that belong to other services or other parts of
// zun-compute: skipped as a whole.
const std::set<std::string>& ForeignSections();
// Sections shared with upstream's other services and drivers, of which the
// agent reads some options: the others are skipped.
const std::set<std::string>& LenientSections();

}  // namespace zun::config::config_internal
