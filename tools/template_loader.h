// File: template_loader.h
// Reads a capsule template as python-zunclient's template_format.parse()
// does before it POSTs it, for zun-capsule: text that starts with '{'
// (after whitespace) is JSON (json.loads); anything else is YAML, read as
// PyYAML's yaml.safe_load (YAML 1.1) reads it:
//   - plain scalars resolve to null (empty, ~, null, Null, NULL), booleans
//     (yes/no/on/off/true/false, lower, Capitalised or UPPER case),
//     integers (decimal, 0b.., 0x.., 0-prefixed octal, sexagesimal 1:30,
//     '_' separators) and floats (only with a dot: 1.5, 1., .5, 1.5e+3);
//     timestamps (2024-01-01, 2024-01-01 10:00:00) are refused: the client
//     cannot send the dates PyYAML makes of them; everything else, "08" and
//     "1e5" included, is a string;
//   - quoted scalars are always strings; !!str/!!int/!!float/!!bool/!!null/
//     !!map/!!seq tags are honoured; other tags are refused (safe_load
//     refuses local tags, and the client cannot send sets, bytes or dates);
//   - "<<" merge keys are applied; a repeated key's last value wins, in the
//     first one's place (a Python dict); numeric, boolean and null keys
//     become strings as json.dumps writes them; an empty document is {};
//   - characters PyYAML refuses (control characters, invalid UTF-8) and
//     more than one document are refused.
// Also refused where Python would carry on: integers outside int64 (JSON
// integers beyond 2^64 are read as floats), non-finite numbers (.inf, .nan,
// NaN, 1e999), nesting deeper than kMaxTemplateDepth and documents that
// expand to more than kMaxTemplateValues values (alias bombs). yaml-cpp
// reads YAML 1.2 syntax, so a few spellings PyYAML refuses (a tab after
// "key:") are read.
//
// Errors are INVALID_ARGUMENT starting "template: ". Thread-safe.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "tools/py_value.h"

namespace zun::tools {

inline constexpr int kMaxTemplateDepth = 64;
inline constexpr size_t kMaxTemplateValues = 200000;

absl::StatusOr<TemplateJson> LoadTemplateDocument(std::string_view text);

}  // namespace zun::tools
