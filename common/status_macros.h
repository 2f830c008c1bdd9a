// File: status_macros.h
// Project-local copies of the status helpers that newer Abseil releases ship
// (ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN, LTS 20260526). Debian 12 has
// abseil 20220623, which lacks them; when the toolchain moves on these become
// aliases.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ZUN_STATUS_CONCAT_INNER_(a, b) a##b
#define ZUN_STATUS_CONCAT_(a, b) ZUN_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define ZUN_RETURN_IF_ERROR(expr)                           \
  do {                                                      \
    const ::absl::Status zun_status_macro_status_ = (expr); \
    if (!zun_status_macro_status_.ok()) {                   \
      return zun_status_macro_status_;                      \
    }                                                       \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, on
// success moves the value into `lhs` (which may be a declaration).
#define ZUN_ASSIGN_OR_RETURN(lhs, rexpr)                                       \
  ZUN_ASSIGN_OR_RETURN_IMPL_(ZUN_STATUS_CONCAT_(zun_statusor_, __LINE__), lhs, \
                             rexpr)

#define ZUN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) {                                  \
    return std::move(statusor).status();                 \
  }                                                      \
  lhs = std::move(statusor).value()

namespace zun {

// Prefixes the message of a non-OK status with `context`, keeping the code.
inline absl::Status Annotate(const absl::Status& s, std::string_view context) {
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      std::string(context) + ": " + std::string(s.message()));
}

}  // namespace zun
