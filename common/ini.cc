#include "common/ini.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/strings.h"

namespace zun {
namespace {

absl::Status SyntaxError(const std::string& file, int line,
                         std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(file, ":", line, ": ", AV(what)));
}

}  // namespace

absl::StatusOr<IniFile> IniFile::Parse(std::string_view text,
                                       std::string filename) {
  IniFile ini;
  ini.filename_ = std::move(filename);
  std::string section;
  IniValue* last = nullptr;  // value a continuation line extends
  int lineno = 0;
  for (absl::string_view raw :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++lineno;
    if (raw.find('\0') != absl::string_view::npos) {
      return SyntaxError(ini.filename_, lineno, "NUL byte");
    }
    absl::string_view line = absl::StripSuffix(raw, "\r");
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty()) {
      last = nullptr;
      continue;
    }
    if (stripped[0] == '#' || stripped[0] == ';') continue;
    const bool indented = line[0] == ' ' || line[0] == '\t';
    if (indented && last != nullptr) {
      if (!last->value.empty()) last->value += "\n";
      absl::StrAppend(&last->value, stripped);
      continue;
    }
    if (stripped[0] == '[') {
      if (stripped.back() != ']' || stripped.size() < 3) {
        return SyntaxError(ini.filename_, lineno, "malformed section header");
      }
      section = std::string(
          absl::StripAsciiWhitespace(stripped.substr(1, stripped.size() - 2)));
      if (section.empty()) {
        return SyntaxError(ini.filename_, lineno, "empty section name");
      }
      ini.sections_[section];
      last = nullptr;
      continue;
    }
    size_t sep = stripped.find_first_of("=:");
    if (sep == absl::string_view::npos) {
      return SyntaxError(
          ini.filename_, lineno,
          absl::StrCat("expected 'key = value', got '", stripped, "'"));
    }
    if (section.empty()) {
      return SyntaxError(ini.filename_, lineno,
                         "option outside of any [section]");
    }
    std::string key(absl::StripAsciiWhitespace(stripped.substr(0, sep)));
    if (key.empty()) return SyntaxError(ini.filename_, lineno, "empty key");
    std::string value(absl::StripAsciiWhitespace(stripped.substr(sep + 1)));
    auto& values = ini.sections_[section][key];
    values.push_back(IniValue{std::move(value), lineno});
    last = &values.back();
  }
  return ini;
}

absl::StatusOr<IniFile> IniFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string msg = absl::StrCat("cannot read ", path, ": ", strerror(err));
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::NotFoundError(msg);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

const IniValue* IniFile::Get(std::string_view section,
                             std::string_view key) const {
  auto s = sections_.find(std::string(section));
  if (s == sections_.end()) return nullptr;
  auto k = s->second.find(std::string(key));
  if (k == s->second.end() || k->second.empty()) return nullptr;
  return &k->second.back();
}

}  // namespace zun
