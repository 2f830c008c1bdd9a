// File: yaml11_scalar.h
// What PyYAML's yaml.safe_load (YAML 1.1) makes of one scalar, for
// zun-capsule's template reader (template_loader.h): its implicit resolvers
// (resolver.py) and constructors, as JSON values.
//
//   plain (tag "?"): null for "", ~, null, Null, NULL; booleans for
//     yes/no/on/off/true/false in lower, Capitalised and UPPER case;
//     integers for 12, -0b101, 0x1F, 017 (octal), 1:30 (sexagesimal), with
//     '_' anywhere after the first digit; floats for 1.5, 1., .5, 1.5e+3,
//     1:30.5 (a dot is needed, and a signed exponent); anything else is a
//     string ("08", "1e5", "y").
//   quoted (tag "!") or !!str: a string. !!int, !!float, !!bool, !!null:
//     that type.
// Refused (INVALID_ARGUMENT "template: ..."): "=" and "<<" as values and
// unknown tags (safe_load has no constructor for them), timestamps (PyYAML
// makes dates of them, which the zun client cannot send as JSON), integers
// outside int64 and non-finite floats (.inf, .nan: JSON cannot carry them).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tools/py_value.h"

namespace zun::tools {

// `tag` as yaml-cpp reports it: "?" plain, "!" quoted, or the full tag.
absl::StatusOr<TemplateJson> ResolveYamlScalar(const std::string& value,
                                               const std::string& tag);

// A plain mapping key PyYAML reads as inf or nan, spelt as json.dumps
// writes such a key ("Infinity", "-Infinity", "NaN"); nullopt otherwise.
std::optional<std::string> NonFiniteKey(std::string_view plain);

}  // namespace zun::tools
