#include "tools/yaml11_scalar.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace zun::tools {
namespace {

using Json = TemplateJson;

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("template: ", AV(what)));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllIn(std::string_view s, std::string_view chars) {
  return s.find_first_not_of(chars) == std::string_view::npos;
}

constexpr std::string_view kDec = "0123456789_";

std::string_view NoSign(std::string_view s) {
  return !s.empty() && (s[0] == '-' || s[0] == '+') ? s.substr(1) : s;
}

// (:[0-5]?[0-9])+ over all of `s`.
bool Sexagesimal(std::string_view s) {
  if (s.empty()) return false;
  for (absl::string_view p : absl::StrSplit(AV(s.substr(1)), ':')) {
    if (s[0] != ':' || p.empty() || p.size() > 2 ||
        !AllIn(SV(p), "0123456789") || (p.size() == 2 && p[0] > '5')) {
      return false;
    }
  }
  return true;
}

// PyYAML's implicit int and float resolvers (resolver.py).
bool YamlInt(std::string_view s) {
  const std::string_view b = NoSign(s);
  if (b.empty()) return false;
  if (b.substr(0, 2) == "0b") return b.size() > 2 && AllIn(b.substr(2), "01_");
  if (b.substr(0, 2) == "0x") {
    return b.size() > 2 && AllIn(b.substr(2), "0123456789abcdefABCDEF_");
  }
  if (b == "0") return true;
  if (b[0] == '0') return AllIn(b.substr(1), "01234567_");
  if (!IsDigit(b[0])) return false;
  const size_t colon = b.find(':');
  if (colon == std::string_view::npos) return AllIn(b, kDec);
  return AllIn(b.substr(0, colon), kDec) && Sexagesimal(b.substr(colon));
}

bool Exponent(std::string_view s) {  // ([eE][-+][0-9]+)?
  return s.empty() ||
         (s.size() > 2 && (s[0] == 'e' || s[0] == 'E') &&
          (s[1] == '-' || s[1] == '+') && AllIn(s.substr(2), "0123456789"));
}

// [0-9]{n} at s[*i], advancing *i.
bool Digits(std::string_view s, size_t* i, size_t min, size_t max) {
  size_t n = 0;
  while (*i < s.size() && n < max && IsDigit(s[*i])) ++*i, ++n;
  return n >= min;
}

bool Char(std::string_view s, size_t* i, std::string_view chars) {
  if (*i >= s.size() || chars.find(s[*i]) == std::string_view::npos) {
    return false;
  }
  ++*i;
  return true;
}

// PyYAML's timestamp resolver: 2001-12-14, or 2001-12-14t21:59:43.10-05:00
// and its spaced forms.
bool YamlTimestamp(std::string_view s) {
  size_t i = 0;
  if (!Digits(s, &i, 4, 4) || !Char(s, &i, "-")) return false;
  const size_t month = i;
  if (Digits(s, &i, 2, 2) && Char(s, &i, "-") && Digits(s, &i, 2, 2) &&
      i == s.size()) {
    return true;  // a date
  }
  i = month;
  if (!Digits(s, &i, 1, 2) || !Char(s, &i, "-") || !Digits(s, &i, 1, 2)) {
    return false;
  }
  if (!Char(s, &i, "Tt")) {
    if (!Char(s, &i, " \t")) return false;
    while (Char(s, &i, " \t")) {
    }
  }
  if (!Digits(s, &i, 1, 2) || !Char(s, &i, ":") || !Digits(s, &i, 2, 2) ||
      !Char(s, &i, ":") || !Digits(s, &i, 2, 2)) {
    return false;
  }
  if (Char(s, &i, ".")) Digits(s, &i, 0, s.size());
  while (Char(s, &i, " \t")) {
  }
  if (i == s.size() || Char(s, &i, "Z")) return i == s.size();
  if (!Char(s, &i, "-+") || !Digits(s, &i, 1, 2)) return false;
  if (Char(s, &i, ":") && !Digits(s, &i, 2, 2)) return false;
  return i == s.size();
}

bool YamlFloat(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  const std::string_view b = NoSign(s);
  if (b == ".inf" || b == ".Inf" || b == ".INF") return true;
  if (!s.empty() && s[0] == '.') {  // \.[0-9][0-9_]*([eE][-+][0-9]+)?
    const size_t end = std::min(s.find_first_not_of(kDec, 1), s.size());
    return end > 1 && IsDigit(s[1]) && Exponent(s.substr(end));
  }
  if (b.empty() || !IsDigit(b[0])) return false;
  const size_t i = std::min(b.find_first_not_of(kDec), b.size());
  const size_t dot = b.find('.', i);
  if (dot == std::string_view::npos) return false;
  if (dot == i) {
    const size_t end = std::min(b.find_first_not_of(kDec, dot + 1), b.size());
    return Exponent(b.substr(end));
  }
  return Sexagesimal(b.substr(i, dot - i)) && AllIn(b.substr(dot + 1), kDec);
}

absl::StatusOr<Json> ConstructInt(std::string_view s) {
  std::string t = absl::StrReplaceAll(AV(s), {{"_", ""}});
  const bool negative = t[0] == '-';
  if (t[0] == '-' || t[0] == '+') t.erase(0, 1);
  uint64_t v = 0;
  auto add = [&v](uint64_t base, uint64_t digit) {
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / base) return false;
    v = v * base + digit;
    return true;
  };
  bool ok = true;
  if (t.find(':') != std::string::npos) {
    for (absl::string_view p : absl::StrSplit(t, ':')) {
      uint64_t d = 0;
      std::from_chars(p.data(), p.data() + p.size(), d);
      ok = ok && add(60, d);
    }
  } else {
    int base = 10;
    std::string_view digits = t;
    if (t.rfind("0b", 0) == 0 || t.rfind("0x", 0) == 0) {
      base = t[1] == 'b' ? 2 : 16;
      digits.remove_prefix(2);
    } else if (t.size() > 1 && t[0] == '0') {
      base = 8;
    }
    ok = !digits.empty();
    for (char c : digits) {
      const int d = IsDigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
      ok = ok && add(base, d);
    }
  }
  if (!ok || v > uint64_t{std::numeric_limits<int64_t>::max()} + negative) {
    return Bad(absl::StrCat("the integer ", AV(s), " is out of range"));
  }
  return Json(negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v));
}

absl::StatusOr<Json> ConstructFloat(std::string_view s) {
  std::string t =
      absl::AsciiStrToLower(absl::StrReplaceAll(AV(s), {{"_", ""}}));
  double sign = 1;
  if (t[0] == '-' || t[0] == '+') {
    sign = t[0] == '-' ? -1 : 1;
    t.erase(0, 1);
  }
  double v = 0;
  if (t.find(':') != std::string::npos) {
    for (absl::string_view p : absl::StrSplit(t, ':')) {
      v = v * 60 + std::strtod(std::string(p).c_str(), nullptr);
    }
  } else if (t != ".inf" && t != ".nan") {
    v = std::strtod(t.c_str(), nullptr);
  }
  if (t == ".inf" || t == ".nan" || !std::isfinite(v)) {
    return Bad(absl::StrCat(AV(s),
                            " is not a finite number, which a JSON request "
                            "cannot carry"));
  }
  return Json(sign * v);
}

bool IsNullWord(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

}  // namespace

absl::StatusOr<TemplateJson> ResolveYamlScalar(const std::string& s,
                                               const std::string& tag) {
  const auto tagged = [&tag](std::string_view t) {
    return tag == absl::StrCat("tag:yaml.org,2002:", AV(t));
  };
  if (tag == "!" || tagged("str")) return Json(s);
  const bool plain = tag == "?";
  if (plain ? IsNullWord(s) : tagged("null")) return Json(nullptr);
  if (plain || tagged("bool")) {
    for (std::string_view w :
         {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
      if (s == w) return Json(true);
    }
    for (std::string_view w :
         {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
      if (s == w) return Json(false);
    }
  }
  if ((plain || tagged("int")) && YamlInt(s)) return ConstructInt(s);
  const bool decimal = !NoSign(s).empty() && AllIn(NoSign(s), kDec);
  if ((plain || tagged("float")) && (YamlFloat(s) || (!plain && decimal))) {
    return ConstructFloat(s);
  }
  if (plain && (s == "=" || s == "<<")) {
    return Bad(absl::StrCat(
        "could not determine a constructor for the tag 'tag:yaml.org,2002:",
        s == "=" ? "value" : "merge", "'"));
  }
  if ((plain && YamlTimestamp(s)) || tagged("timestamp")) {
    return Bad(absl::StrCat(
        "'", s,
        "' is a YAML timestamp, which the zun client cannot send as JSON; "
        "quote it to send a string"));
  }
  if (plain) return Json(s);
  if (tagged("int") || tagged("float") || tagged("bool")) {
    return Bad(absl::StrCat("cannot read '", s, "' as ", tag));
  }
  return Bad(absl::StrCat("could not determine a constructor for the tag '",
                          tag, "'"));
}

std::optional<std::string> NonFiniteKey(std::string_view s) {
  if (!YamlFloat(s)) return std::nullopt;
  const std::string lower = absl::AsciiStrToLower(AV(s));
  if (lower == ".nan") return "NaN";
  if (NoSign(lower) == ".inf") return s[0] == '-' ? "-Infinity" : "Infinity";
  return std::nullopt;
}

}  // namespace zun::tools
