// File: cli_args.h
// A small command-line parser for our binaries, which follow OpenStack's
// spelling (`--config-file FILE`, dashes in names) that absl flags cannot
// express. Accepts `--name value`, `--name=value`, boolean `--name`, repeated
// options and positional arguments; `--` ends options.
// Thread-compatible.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace zun {

class CliArgs {
 public:
  // `valued`: options that take a value; `flags`: boolean options. Anything
  // else starting with "--" is an error naming the option.
  static absl::StatusOr<CliArgs> Parse(int argc, const char* const* argv,
                                       const std::set<std::string>& valued,
                                       const std::set<std::string>& flags);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // Last value of an option, or `fallback`.
  std::string Get(const std::string& name,
                  const std::string& fallback = "") const;
  // Every value of a repeated option, in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace zun
