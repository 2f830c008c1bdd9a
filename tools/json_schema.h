// File: json_schema.h
// A small validator for the subset of JSON Schema Draft 4 that Zun's
// capsule schema uses (type, enum, properties, additionalProperties: false,
// required, items, minLength, maxLength, minimum, maximum, pattern, and the
// environment's patternProperties), reporting the first error exactly as
// python-jsonschema's Draft4Validator.validate() raises it and Zun's
// zun.api.validation words it:
//
//   Invalid input for field '<field>'.Value: '<str(value)>'. <message>
//
// with <field> the last element of the error's path in the request body and
// <message> the first line of jsonschema's message ("'x' is not one of
// ['a', 'b']", "'cpu' is a required property", "'2' does not match
// '^[0-9]+$'", "2 is less than the minimum of 4", ...), worded as
// jsonschema 4.21 and later word them (current OpenStack releases): "''
// should be non-empty" for minLength 1, extra properties listed sorted.
// Keywords are checked in the order the schema lists them, as jsonschema
// iterates a schema dict; properties in the schema's order.
// minimum/maximum follow Zun's override: strings are first read with int(),
// then float(), and skip the check if neither works. `pattern` is one of
// the few regular expressions Zun's capsule schema has, matched by hand
// with Python's re.search semantics ($ also matches before a final "\n").
//
// Schemas are plain data built once (capsule_schema.cc); Check() is a pure
// function, thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "tools/py_value.h"

namespace zun::tools::schema {

enum class Pattern {
  kName,           // ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$
  kImage,          // [a-zA-Z0-9][a-zA-Z0-9_.-] (not anchored)
  kCpu,            // ^[0-9]*(\.([0-9]+))?$
  kDigits,         // ^[0-9]+$
  kDigitsOrEmpty,  // ^[0-9]*$
};

enum class Kw {
  kType,
  kEnum,
  kProperties,
  kEnvValues,  // environment's patternProperties {'.+': {'type': ['string']}}
  kNoAdditionalProperties,
  kRequired,
  kItems,
  kMinLength,
  kMaxLength,
  kMinimum,
  kMaximum,
  kPattern,
};

struct Schema;
using Properties = std::vector<std::pair<std::string, const Schema*>>;

struct Keyword {
  Kw kw = Kw::kType;
  std::vector<std::string> names = {};  // kType: types; kRequired: properties
  TemplateJson value = nullptr;         // kEnum: the list; kMinimum/kMaximum
  Properties properties = {};           // kProperties
  const Schema* sub = nullptr;          // kItems, kEnvValues
  size_t length = 0;                    // kMinLength, kMaxLength
  Pattern pattern = Pattern::kName;
};

// A schema dict: its keywords in the order Zun's source lists them, which
// is the order jsonschema checks them in.
struct Schema {
  std::vector<Keyword> keywords;
};

inline Keyword Type(std::vector<std::string> types) {
  return {.kw = Kw::kType, .names = std::move(types)};
}
inline Keyword Enum(TemplateJson values) {
  return {.kw = Kw::kEnum, .value = values};
}
inline Keyword Props(Properties p) {
  return {.kw = Kw::kProperties, .properties = std::move(p)};
}
inline Keyword EnvValues(const Schema* s) {
  return {.kw = Kw::kEnvValues, .sub = s};
}
inline Keyword NoAdditional() { return {.kw = Kw::kNoAdditionalProperties}; }
inline Keyword Required(std::vector<std::string> names) {
  return {.kw = Kw::kRequired, .names = std::move(names)};
}
inline Keyword Items(const Schema* s) { return {.kw = Kw::kItems, .sub = s}; }
inline Keyword MinLength(size_t n) {
  return {.kw = Kw::kMinLength, .length = n};
}
inline Keyword MaxLength(size_t n) {
  return {.kw = Kw::kMaxLength, .length = n};
}
inline Keyword Minimum(TemplateJson n) {
  return {.kw = Kw::kMinimum, .value = n};
}
inline Keyword Maximum(TemplateJson n) {
  return {.kw = Kw::kMaximum, .value = n};
}
inline Keyword Match(Pattern p) { return {.kw = Kw::kPattern, .pattern = p}; }

// The first error in `value`, which sits at `field` of the request body.
absl::Status Check(const Schema& s, const TemplateJson& value,
                   const std::string& field);

}  // namespace zun::tools::schema
