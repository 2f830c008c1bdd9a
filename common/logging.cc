#include "common/logging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <mutex>

#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace zun::log {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Component::kCount)>
    kNames = {"main", "agent", "capsule", "cri", "db", "rpc", "openstack"};

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %l %n [%t] %v";

struct Registry {
  std::mutex mu;
  std::array<std::shared_ptr<spdlog::logger>, kNames.size()> loggers;
  spdlog::sink_ptr sink;
};

// Log lines name capsules, images and hosts: the file is created 0640 and an
// existing one loses any group-write or world bits before we write to it.
void PrepareLogFile(const std::string& path) {
  int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return;  // spdlog reports the error when it opens the file
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 0027) != 0) {
    (void)::fchmod(fd, st.st_mode & 0750);
  }
  ::close(fd);
}

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
    PrepareLogFile(options.file);
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
  // scheme://user:pass@host,user:pass@host/... -> the passwords become ***.
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t start = scheme + 3;
  size_t end = url.find_first_of("/?", start);
  if (end == std::string_view::npos) end = url.size();
  std::string out(url.substr(0, start));
  size_t pos = start;
  while (pos <= end) {
    size_t comma = url.find(',', pos);
    if (comma == std::string_view::npos || comma > end) comma = end;
    std::string_view part = url.substr(pos, comma - pos);
    const size_t at = part.rfind('@');
    const size_t colon = part.find(':');
    if (at != std::string_view::npos && colon != std::string_view::npos &&
        colon < at) {
      out.append(part.substr(0, colon + 1))
          .append("***")
          .append(part.substr(at));
    } else {
      out.append(part);
    }
    if (comma < end) out.push_back(',');
    pos = comma + 1;
  }
  out.append(url.substr(end));
  return out;
}

std::string RedactConnectionString(std::string_view conn) {
  std::string s = RedactUrl(conn);
  std::string lower = s;
  for (char& ch : lower)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t pos = 0;
  while ((pos = lower.find("password", pos)) != std::string::npos) {
    size_t i = pos + 8;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || s[i] != '=') {
      pos = i;
      continue;
    }
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    size_t end = i;
    if (end < s.size() && s[end] == '\'') {
      end = s.find('\'', end + 1);
      end = end == std::string::npos ? s.size() : end + 1;
    } else {
      while (end < s.size() && s[end] != ' ' && s[end] != '&') ++end;
    }
    s.replace(i, end - i, "***");
    lower.replace(i, end - i, "***");
    pos = i + 3;
  }
  return s;
}

}  // namespace zun::log
