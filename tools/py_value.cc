#include "tools/py_value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/strings.h"

namespace zun::tools {
namespace {

using Json = TemplateJson;

// Approximates Python's str.isprintable() beyond ASCII: separators, format
// characters, C1 controls and private use are escaped.
bool PyPrintable(char32_t c) {
  return !((c >= 0x80 && c <= 0xA0) || c == 0xAD ||
           (c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD ||
           c == 0x70F || c == 0x1680 || c == 0x180E ||
           (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
           (c >= 0x205F && c <= 0x206F) || c == 0x3000 ||
           (c >= 0xE000 && c <= 0xF8FF) || c == 0xFEFF ||
           (c >= 0xFFF9 && c <= 0xFFFB) || c >= 0xF0000);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view NoSign(std::string_view s) {
  return !s.empty() && (s[0] == '-' || s[0] == '+') ? s.substr(1) : s;
}

}  // namespace

bool NextCodePoint(std::string_view s, size_t* i, char32_t* cp) {
  const auto b = static_cast<unsigned char>(s[*i]);
  size_t n = 0;
  if (b >= 0xC2 && b < 0xE0) {
    n = 1;
  } else if (b >= 0xE0 && b < 0xF0) {
    n = 2;
  } else if (b >= 0xF0 && b < 0xF5) {
    n = 3;
  } else if (b >= 0x80) {
    return false;
  }
  if (*i + n >= s.size()) return false;
  char32_t c = n == 0 ? b : b & (0x3F >> n);
  for (size_t k = 1; k <= n; ++k) {
    const auto cb = static_cast<unsigned char>(s[*i + k]);
    if ((cb & 0xC0) != 0x80) return false;
    c = (c << 6) | (cb & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (c < kMin[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    return false;
  }
  *i += n + 1;
  *cp = c;
  return true;
}

size_t PyLength(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  const auto res =
      std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);  // shortest: "-1.25e+02"
  std::string out = sci[0] == '-' ? "-" : "";
  if (sci[0] == '-') sci.remove_prefix(1);
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exp = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1),
                  sci.data() + sci.size(), exp);
  const int point = exp + 1, n = static_cast<int>(digits.size());
  if (point > -4 && point <= 16) {  // Python's repr() switch to exponents
    if (point <= 0) return out + "0." + std::string(-point, '0') + digits;
    if (point >= n) return out + digits + std::string(point - n, '0') + ".0";
    return out + digits.substr(0, point) + "." + digits.substr(point);
  }
  out += digits.substr(0, 1);
  if (n > 1) out += "." + digits.substr(1);
  return out + absl::StrFormat("e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
}

std::string PyReprString(std::string_view s) {
  const bool single = s.find('\'') != std::string_view::npos;
  const char quote =
      single && s.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out(1, quote);
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    char32_t c = 0;
    if (!NextCodePoint(s, &i, &c)) {  // not text Python could hold
      absl::StrAppendFormat(&out, "\\x%02x",
                            static_cast<unsigned char>(s[start]));
      i = start + 1;
    } else if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t' || c == '\n' || c == '\r') {
      out += c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r";
    } else if (c < 0x20 || c == 0x7F || (c > 0x7F && !PyPrintable(c))) {
      const auto code = static_cast<uint32_t>(c);
      if (c <= 0xFF) {
        absl::StrAppendFormat(&out, "\\x%02x", code);
      } else if (c <= 0xFFFF) {
        absl::StrAppendFormat(&out, "\\u%04x", code);
      } else {
        absl::StrAppendFormat(&out, "\\U%08x", code);
      }
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out + quote;
}

std::string PyRepr(const TemplateJson& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "None";
    case Json::value_t::boolean:
      return v.get<bool>() ? "True" : "False";
    case Json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case Json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case Json::value_t::number_float:
      return PyFloatRepr(v.get<double>());
    case Json::value_t::string:
      return PyReprString(v.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::vector<std::string> items;
      for (const Json& item : v) items.push_back(PyRepr(item));
      return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
    }
    case Json::value_t::object: {
      std::vector<std::string> items;
      for (const auto& [k, item] : v.items()) {
        items.push_back(absl::StrCat(PyReprString(k), ": ", PyRepr(item)));
      }
      return absl::StrCat("{", absl::StrJoin(items, ", "), "}");
    }
    default:
      return "<binary>";
  }
}

std::string PyStr(const TemplateJson& v) {
  return v.is_string() ? v.get<std::string>() : PyRepr(v);
}

std::optional<PyNumber> PyNumberFromString(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\v\f\x1c\x1d\x1e\x1f";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return std::nullopt;
  s = s.substr(first, s.find_last_not_of(kSpace) - first + 1);
  const bool negative = s[0] == '-';
  const std::string_view body = NoSign(s);
  // digit (["_"] digit)* from i; returns the end (i when there is none).
  auto digitpart = [&body](size_t i) {
    size_t j = i;
    while (j < body.size() && IsDigit(body[j])) {
      ++j;
      if (j + 1 < body.size() && body[j] == '_' && IsDigit(body[j + 1])) ++j;
    }
    return j;
  };
  std::string clean = absl::StrReplaceAll(AV(body), {{"_", ""}});
  if (!body.empty() && digitpart(0) == body.size()) {  // int(s)
    clean.erase(0, std::min(clean.find_first_not_of('0'), clean.size() - 1));
    return PyNumber{std::strtold(clean.c_str(), nullptr) * (negative ? -1 : 1),
                    (negative && clean != "0" ? "-" : "") + clean};
  }
  const std::string word = absl::AsciiStrToLower(AV(body));
  double d = 0;
  if (word == "inf" || word == "infinity" || word == "nan") {
    d = word == "nan" ? std::nan("") : std::numeric_limits<double>::infinity();
  } else {
    size_t i = digitpart(0);
    const bool int_part = i > 0;
    if (i < body.size() && body[i] == '.') i = digitpart(i + 1);
    if (!int_part && i <= 1) return std::nullopt;  // no digits at all
    if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
      size_t j = i + 1;
      if (j < body.size() && (body[j] == '+' || body[j] == '-')) ++j;
      i = digitpart(j) > j ? digitpart(j) : std::string_view::npos;
    }
    if (i != body.size()) return std::nullopt;
    d = std::strtod(clean.c_str(), nullptr);
  }
  if (negative && !std::isnan(d)) d = -d;
  return PyNumber{d, PyFloatRepr(d)};
}

}  // namespace zun::tools
