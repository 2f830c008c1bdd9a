// File: py_json.h
// JSON text exactly as Python's json.dumps() writes it with its defaults,
// which is what oslo.messaging puts on the wire: separators ", " and ": ",
// keys in insertion order, ensure_ascii=True (non-ASCII as \uXXXX with
// surrogate pairs), floats in repr() form. Used so our replies match oslo's
// byte for byte. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace zun::rpc {

using OrderedJson = nlohmann::ordered_json;

std::string PyDumps(const OrderedJson& j);
// A JSON string literal (with quotes) in Python's ensure_ascii form.
std::string PyQuote(std::string_view utf8);

}  // namespace zun::rpc
