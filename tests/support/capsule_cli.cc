#include "tests/support/capsule_cli.h"

#include "tests/support/test_env.h"

namespace zun::testing {

CommandResult ZunCapsule(const std::string& config,
                         const std::vector<std::string>& args,
                         absl::Duration timeout) {
  std::vector<std::string> argv = {BinDir() + "/zun-capsule", "--config-file",
                                   config};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> r = RunCommand(argv, timeout);
  if (!r.ok()) return CommandResult{-1, std::string(r.status().message())};
  return *r;
}

nlohmann::json JsonOf(const std::string& output) {
  const size_t start = output.find_first_of("{[");
  if (start == std::string::npos) return nullptr;
  const char close = output[start] == '{' ? '}' : ']';
  const size_t end = output.rfind(close);
  if (end == std::string::npos || end < start) return nullptr;
  return nlohmann::json::parse(output.substr(start, end - start + 1), nullptr,
                               /*allow_exceptions=*/false);
}

std::string SampleTemplate(const std::string& name) {
  return std::string(ZUN_SOURCE_DIR) + "/etc/capsules/" + name;
}

}  // namespace zun::testing
