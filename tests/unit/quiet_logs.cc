// Unit tests log at warning and above unless ZUN_TEST_LOG=debug|info.
#include <cstdlib>

#include "common/logging.h"

namespace {

struct QuietLogs {
  QuietLogs() {
    const char* level = std::getenv("ZUN_TEST_LOG");
    zun::log::SetLevel("*", level != nullptr ? spdlog::level::from_str(level)
                                             : spdlog::level::warn);
  }
} quiet_logs;

}  // namespace
