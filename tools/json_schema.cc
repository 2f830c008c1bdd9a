#include "tools/json_schema.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace zun::tools::schema {
namespace {

using Json = TemplateJson;

std::string_view PatternText(Pattern p) {
  switch (p) {
    case Pattern::kName:
      return "^[a-zA-Z0-9][a-zA-Z0-9_.-]+$";
    case Pattern::kImage:
      return "[a-zA-Z0-9][a-zA-Z0-9_.-]";
    case Pattern::kCpu:
      return "^[0-9]*(\\.([0-9]+))?$";
    case Pattern::kDigits:
      return "^[0-9]+$";
    case Pattern::kDigitsOrEmpty:
      return "^[0-9]*$";
  }
  return "";
}

bool NameChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

bool FullMatch(Pattern p, std::string_view s) {
  switch (p) {
    case Pattern::kName:
      return s.size() >= 2 && absl::ascii_isalnum(s[0]) &&
             std::all_of(s.begin() + 1, s.end(), NameChar);
    case Pattern::kCpu: {
      const size_t dot = s.find('.');
      if (dot == std::string_view::npos) return AllDigits(s);
      return AllDigits(s.substr(0, dot)) && dot + 1 < s.size() &&
             AllDigits(s.substr(dot + 1));
    }
    case Pattern::kDigits:
      return !s.empty() && AllDigits(s);
    case Pattern::kDigitsOrEmpty:
      return AllDigits(s);
    case Pattern::kImage:
      break;
  }
  return false;
}

// re.search(pattern, s). Python's `$` also matches before a final "\n".
bool Matches(Pattern p, std::string_view s) {
  if (p == Pattern::kImage) {  // not anchored: two such characters anywhere
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      if (absl::ascii_isalnum(s[i]) && NameChar(s[i + 1])) return true;
    }
    return false;
  }
  return FullMatch(p, s) || (!s.empty() && s.back() == '\n' &&
                             FullMatch(p, s.substr(0, s.size() - 1)));
}

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(AV(message));
}

// zun.api.validation's message for a jsonschema error at `field`.
absl::Status FieldError(std::string_view field, const Json& instance,
                        std::string_view message) {
  return Invalid(absl::StrCat("Invalid input for field '", AV(field),
                              "'.Value: '", PyStr(instance), "'. ",
                              AV(message)));
}

std::string JoinRepr(const std::vector<std::string>& items) {
  return absl::StrJoin(items, ", ", [](std::string* out, const std::string& s) {
    out->append(PyReprString(s));
  });
}

bool HasType(const Json& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();  // Draft 4: not 1.0
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  return v.is_null();
}

// Zun's _number_from_str; booleans and non-numbers skip minimum/maximum.
std::optional<PyNumber> NumberOf(const Json& v) {
  if (v.is_string()) return PyNumberFromString(v.get_ref<const std::string&>());
  if (v.is_number_float()) return PyNumber{v.get<double>(), PyRepr(v)};
  if (v.is_number_unsigned()) {
    return PyNumber{v.get<uint64_t>() * 1.0L, PyRepr(v)};
  }
  if (v.is_number()) return PyNumber{v.get<int64_t>() * 1.0L, PyRepr(v)};
  return std::nullopt;
}

}  // namespace

// The first error jsonschema's Draft4Validator.validate() raises.
absl::Status Check(const Schema& s, const Json& v, const std::string& field) {
  const Keyword* props = nullptr;
  for (const Keyword& k : s.keywords) {
    switch (k.kw) {
      case Kw::kType:
        if (std::none_of(
                k.names.begin(), k.names.end(),
                [&v](const std::string& t) { return HasType(v, t); })) {
          return FieldError(
              field, v,
              absl::StrCat(PyRepr(v), " is not of type ", JoinRepr(k.names)));
        }
        break;
      case Kw::kEnum:
        if (std::find(k.value.begin(), k.value.end(), v) == k.value.end()) {
          return FieldError(
              field, v,
              absl::StrCat(PyRepr(v), " is not one of ", PyRepr(k.value)));
        }
        break;
      case Kw::kProperties:
        props = &k;
        if (!v.is_object()) break;
        for (const auto& [name, sub] : k.properties) {
          auto it = v.find(name);
          if (it != v.end()) ZUN_RETURN_IF_ERROR(Check(*sub, *it, name));
        }
        break;
      case Kw::kEnvValues:
        if (!v.is_object()) break;
        for (const auto& [key, value] : v.items()) {
          if (key.find_first_not_of('\n') == std::string::npos) continue;
          ZUN_RETURN_IF_ERROR(Check(*k.sub, value, key));
        }
        break;
      case Kw::kNoAdditionalProperties: {
        if (!v.is_object()) break;
        std::vector<std::string> extras;
        for (const auto& item : v.items()) {
          const std::string& key = item.key();
          if (props == nullptr ||
              std::none_of(props->properties.begin(), props->properties.end(),
                           [&key](const auto& p) { return p.first == key; })) {
            extras.push_back(key);
          }
        }
        if (extras.empty()) break;
        std::sort(extras.begin(), extras.end());
        return FieldError(
            field, v,
            absl::StrCat(
                "Additional properties are not allowed (", JoinRepr(extras),
                extras.size() == 1 ? " was" : " were", " unexpected)"));
      }
      case Kw::kRequired:
        if (!v.is_object()) break;
        for (const std::string& name : k.names) {
          if (!v.contains(name)) {
            return FieldError(
                field, v,
                absl::StrCat(PyReprString(name), " is a required property"));
          }
        }
        break;
      case Kw::kItems:
        if (!v.is_array()) break;
        for (size_t i = 0; i < v.size(); ++i) {
          ZUN_RETURN_IF_ERROR(Check(*k.sub, v[i], std::to_string(i)));
        }
        break;
      case Kw::kMinLength:
      case Kw::kMaxLength: {
        if (!v.is_string()) break;
        const size_t n = PyLength(v.get_ref<const std::string&>());
        const bool min = k.kw == Kw::kMinLength;
        if (min ? n < k.length : n > k.length) {
          // jsonschema >= 4.21 words minLength 1 differently.
          return FieldError(
              field, v,
              absl::StrCat(PyRepr(v), !min            ? " is too long"
                                      : k.length == 1 ? " should be non-empty"
                                                      : " is too short"));
        }
        break;
      }
      case Kw::kPattern:
        if (v.is_string() &&
            !Matches(k.pattern, v.get_ref<const std::string&>())) {
          return FieldError(field, v,
                            absl::StrCat(PyRepr(v), " does not match ",
                                         PyReprString(PatternText(k.pattern))));
        }
        break;
      case Kw::kMinimum:
      case Kw::kMaximum: {
        const std::optional<PyNumber> n = NumberOf(v);
        if (!n) break;
        const long double bound = NumberOf(k.value)->value;
        const bool min = k.kw == Kw::kMinimum;
        if (min ? n->value < bound : n->value > bound) {
          return FieldError(
              field, v,
              absl::StrCat(n->repr,
                           min ? " is less than the minimum of "
                               : " is greater than the maximum of ",
                           PyRepr(k.value)));
        }
        break;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace zun::tools::schema
