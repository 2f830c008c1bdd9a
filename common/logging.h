// File: logging.h
// One logging facade over spdlog: a fixed list of components, each with its
// own runtime-adjustable level, and a capsule prefix for lines about a capsule
// so one capsule's history can be grepped:
//
//   ZUN_LOG(kRpc, info, "connected to {}", RedactUrl(url));
//   ZUN_CLOG(kAgent, warn, uuid, request_id, "pull of '{}' failed: {}", img,
//   s);
//
// Messages have no trailing period and quote ids. Credentials never reach a
// log line: URLs and connection strings go through Redact*() first.
// Thread-safe: loggers may be used from any thread; Init() and SetLevel()
// may be called at any time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

// fmt support for Abseil's string_view (a distinct type on Debian 12) and
// Status, so both can be logged directly.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(absl::string_view s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(
        std::string_view(s.data(), s.size()), ctx);
  }
};
template <>
struct fmt::formatter<absl::Status> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const absl::Status& s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(s.ToString(), ctx);
  }
};

namespace zun::log {

enum class Component {
  kMain,
  kAgent,
  kCapsule,
  kCri,
  kDb,
  kRpc,
  kOpenstack,
  kCount
};

std::string_view ComponentName(Component c);

// The logger of one component. Always valid (created on first use).
spdlog::logger& Get(Component c);

struct Options {
  spdlog::level::level_enum level = spdlog::level::info;
  std::string file;  // empty: stderr; else appended to, mode 0640 at most
};
// Replaces the sinks of every component logger. Call once from main().
void Init(const Options& options);

// Sets the level of one component ("rpc", "cri", ...) or of all ("*").
// Returns false for an unknown component name.
bool SetLevel(std::string_view component, spdlog::level::level_enum level);

// "rabbit://user:secret@h:5672/" -> "rabbit://user:***@h:5672/" (every host
// of a multi-host URL). Strings without credentials are returned unchanged.
std::string RedactUrl(std::string_view url);
// Redacts URL passwords and libpq "password=..." key/values.
std::string RedactConnectionString(std::string_view conn);

}  // namespace zun::log

#define ZUN_LOG(comp, lvl, ...) \
  ::zun::log::Get(::zun::log::Component::comp).lvl(__VA_ARGS__)

// A line about one capsule: prefixed with its uuid and the request id.
#define ZUN_CLOG(comp, lvl, uuid, request_id, fmtstr, ...) \
  ::zun::log::Get(::zun::log::Component::comp)             \
      .lvl("[capsule {}][req {}] " fmtstr, (uuid),         \
           ((std::string_view(request_id)).empty()         \
                ? std::string_view("-")                    \
                : std::string_view(request_id))__VA_OPT__(, ) __VA_ARGS__)
