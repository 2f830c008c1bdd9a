// File: ini.h
// A parser for oslo.config-style INI files (what zun.conf uses):
//
//   # comment            ; comment
//   [section]
//   key = value          key: value
//   multi = first line
//     continued line     (indented lines continue the previous value)
//
// Section and key names are kept as written; values are trimmed. A key given
// twice in one section keeps every value in order (oslo's MultiStrOpt), and
// Get() returns the last. Errors name the file and line.
// Thread-compatible: a parsed IniFile is immutable and may be shared.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace zun {

struct IniValue {
  std::string value;
  int line = 0;  // 1-based line of the key
};

class IniFile {
 public:
  using Section = std::map<std::string, std::vector<IniValue>>;

  // Parses `text`; `filename` is only used in error messages.
  // InvalidArgument on a syntax error ("FILE:LINE: ...").
  static absl::StatusOr<IniFile> Parse(std::string_view text,
                                       std::string filename);
  // Reads and parses a file. NotFound / PermissionDenied if it cannot be read.
  static absl::StatusOr<IniFile> Load(const std::string& path);

  const std::string& filename() const { return filename_; }
  const std::map<std::string, Section>& sections() const { return sections_; }
  // The last value of section.key, or nullptr.
  const IniValue* Get(std::string_view section, std::string_view key) const;

 private:
  std::string filename_;
  std::map<std::string, Section> sections_;
};

}  // namespace zun
