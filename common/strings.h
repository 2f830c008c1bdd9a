// File: strings.h
// Debian 12's abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so
// absl::string_view and std::string_view are different types. Our interfaces
// use std::string_view; these helpers bridge to absl's string utilities.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace zun {

inline absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view SV(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace zun
