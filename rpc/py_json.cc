#include "rpc/py_json.h"

#include <cmath>
#include <cstdio>

namespace zun::rpc {
namespace {

void AppendU(std::string* out, unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", v & 0xffff);
  out->append(buf);
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i.
// Invalid bytes come back as U+FFFD (nlohmann never hands us invalid UTF-8,
// but this keeps the function total).
unsigned NextCodePoint(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = b0 < 0x80         ? 1
            : (b0 >> 5) == 6  ? 2
            : (b0 >> 4) == 14 ? 3
            : (b0 >> 3) == 30 ? 4
                              : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xfffd;
  }
  unsigned cp = len == 1   ? b0
                : len == 2 ? (b0 & 0x1f)
                : len == 3 ? (b0 & 0x0f)
                           : (b0 & 0x07);
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) {
      ++i;
      return 0xfffd;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  i += len;
  return cp;
}

void Dump(const OrderedJson& j, std::string* out) {
  switch (j.type()) {
    case OrderedJson::value_t::null:
      out->append("null");
      return;
    case OrderedJson::value_t::boolean:
      out->append(j.get<bool>() ? "true" : "false");
      return;
    case OrderedJson::value_t::number_integer:
    case OrderedJson::value_t::number_unsigned:
      out->append(j.dump());
      return;
    case OrderedJson::value_t::number_float: {
      const double d = j.get<double>();
      if (std::isnan(d)) {
        out->append("NaN");
      } else if (std::isinf(d)) {
        out->append(d > 0 ? "Infinity" : "-Infinity");
      } else {
        out->append(j.dump());  // shortest round-trip, like repr()
      }
      return;
    }
    case OrderedJson::value_t::string:
      out->append(PyQuote(j.get_ref<const std::string&>()));
      return;
    case OrderedJson::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& v : j) {
        if (!first) out->append(", ");
        first = false;
        Dump(v, out);
      }
      out->push_back(']');
      return;
    }
    case OrderedJson::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        if (!first) out->append(", ");
        first = false;
        out->append(PyQuote(k));
        out->append(": ");
        Dump(v, out);
      }
      out->push_back('}');
      return;
    }
    case OrderedJson::value_t::binary:
    case OrderedJson::value_t::discarded:
      out->append("null");
      return;
  }
}

}  // namespace

std::string PyQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      if (c == '"') {
        out.append("\\\"");
      } else if (c == '\\') {
        out.append("\\\\");
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    switch (c) {
      case '\n':
        out.append("\\n");
        ++i;
        continue;
      case '\r':
        out.append("\\r");
        ++i;
        continue;
      case '\t':
        out.append("\\t");
        ++i;
        continue;
      case '\b':
        out.append("\\b");
        ++i;
        continue;
      case '\f':
        out.append("\\f");
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x80) {
      AppendU(&out, c);
      ++i;
      continue;
    }
    unsigned cp = NextCodePoint(s, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      AppendU(&out, 0xd800 | (cp >> 10));
      AppendU(&out, 0xdc00 | (cp & 0x3ff));
    } else {
      AppendU(&out, cp);
    }
  }
  out.push_back('"');
  return out;
}

std::string PyDumps(const OrderedJson& j) {
  std::string out;
  Dump(j, &out);
  return out;
}

}  // namespace zun::rpc
