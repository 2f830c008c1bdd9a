// File: py_value.h
// Template values as Python (the Zun client and the Zun API) sees them, for
// zun-capsule's template checks: JSON whose objects keep their keys in
// insertion order, as a Python dict does, and Python's str(), repr(),
// len(), int() and float() over them, which is how Zun's API error messages
// show values and how its validator reads numbers out of strings.
//
// repr() of text follows Python 3: single quotes unless the text holds ' and
// no ", backslash escapes for \\, the quote, \t \n \r and other control
// characters (\xNN); beyond ASCII, the characters Python does not print
// (separators, format characters, private use) are escaped as \xNN,
// \uNNNN or \UNNNNNNNN, approximated by a fixed list (unassigned code
// points are not known here). Floats use repr()'s shortest round-trip
// digits, switching to exponents below 1e-4 and from 1e16. Pure functions;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace zun::tools {

using TemplateJson = nlohmann::ordered_json;

// str(value): strings as they are, everything else as repr().
std::string PyStr(const TemplateJson& value);
// repr(value): 'text', 12, 0.5, 1e-05, True, None, ['a'], {'k': 'v'}.
std::string PyRepr(const TemplateJson& value);
std::string PyReprString(std::string_view s);
std::string PyFloatRepr(double d);

// int(s) or, if that raises ValueError, float(s) (surrounding whitespace,
// signs, '_' between digits, inf/nan), with repr() of the result; nullopt
// when both raise.
struct PyNumber {
  long double value = 0;
  std::string repr;
};
std::optional<PyNumber> PyNumberFromString(std::string_view s);

// len() of a str: code points of the UTF-8 text.
size_t PyLength(std::string_view s);

// Decodes the UTF-8 code point at s[*i] and advances *i past it; false
// (leaving *i) if the bytes there are not well-formed UTF-8.
bool NextCodePoint(std::string_view s, size_t* i, char32_t* cp);

}  // namespace zun::tools
