#include "common/cli_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace zun {

absl::StatusOr<CliArgs> CliArgs::Parse(int argc, const char* const* argv,
                                       const std::set<std::string>& valued,
                                       const std::set<std::string>& flags) {
  CliArgs out;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || !absl::StartsWith(arg, "--") || arg == "--") {
      if (arg == "--" && !options_done) {
        options_done = true;
        continue;
      }
      out.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (flags.count(name)) {
      if (has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", name, " takes no value"));
      }
      out.values_[name].push_back("true");
    } else if (valued.count(name)) {
      if (!has_value) {
        if (i + 1 >= argc) {
          return absl::InvalidArgumentError(
              absl::StrCat("option --", name, " needs a value"));
        }
        value = argv[++i];
      }
      out.values_[name].push_back(value);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name));
    }
  }
  return out;
}

std::string CliArgs::Get(const std::string& name,
                         const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> CliArgs::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace zun
