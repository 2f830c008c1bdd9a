#include "common/logging.h"

#include <array>
#include <mutex>
#include <regex>

#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace zun::log {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Component::kCount)>
    kNames = {"main", "agent", "capsule", "cri", "db", "rpc"};

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %l %n [%t] %v";

struct Registry {
  std::mutex mu;
  std::array<std::shared_ptr<spdlog::logger>, kNames.size()> loggers;
  spdlog::sink_ptr sink;
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    reg->sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    for (size_t i = 0; i < kNames.size(); ++i) {
      auto l =
          std::make_shared<spdlog::logger>(std::string(kNames[i]), reg->sink);
      l->set_pattern(kPattern);
      l->set_level(spdlog::level::info);
      l->flush_on(spdlog::level::warn);
      reg->loggers[i] = std::move(l);
    }
    return reg;
  }();
  return *r;
}

}  // namespace

std::string_view ComponentName(Component c) {
  return kNames[static_cast<size_t>(c)];
}

spdlog::logger& Get(Component c) {
  return *registry().loggers[static_cast<size_t>(c)];
}

void Init(const Options& options) {
  Registry& r = registry();
  std::lock_guard<std::mutex> l(r.mu);
  spdlog::sink_ptr sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file);
  }
  for (auto& lg : r.loggers) {
    lg->sinks().clear();
    lg->sinks().push_back(sink);
    lg->set_pattern(kPattern);
    lg->set_level(options.level);
  }
  r.sink = sink;
}

bool SetLevel(std::string_view component, spdlog::level::level_enum level) {
  Registry& r = registry();
  bool found = false;
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (component == "*" || component == kNames[i]) {
      r.loggers[i]->set_level(level);
      found = true;
    }
  }
  return found;
}

std::string RedactUrl(std::string_view url) {
  // scheme://user:pass@host -> scheme://user:***@host, for each
  // comma-separated host of a multi-host URL.
  static const std::regex kCreds(R"(((?:^|,|//)[^:/@,]*):[^@/,]*@)");
  return std::regex_replace(std::string(url), kCreds, "$1:***@");
}

std::string RedactConnectionString(std::string_view conn) {
  static const std::regex kKeyValue(R"((password\s*=\s*)('[^']*'|\S+))",
                                    std::regex::icase);
  static const std::regex kQuery(R"(([?&]password=)[^&]*)", std::regex::icase);
  std::string s = RedactUrl(conn);
  s = std::regex_replace(s, kKeyValue, "$1***");
  return std::regex_replace(s, kQuery, "$1***");
}

}  // namespace zun::log
