#include "cri/fake_script.h"

#include <cmath>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace zun::cri::fake {

absl::StatusOr<Script> ParseScript(std::string_view text) {
  Script s;
  for (absl::string_view tok :
       absl::StrSplit(absl::string_view(text.data(), text.size()),
                      absl::ByAnyChar(" ,;"), absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(tok, absl::MaxSplits('=', 1));
    if (kv.first == "exit") {
      if (!absl::SimpleAtoi(kv.second, &s.exit_code)) {
        return absl::InvalidArgumentError(absl::StrCat("bad exit code: ", tok));
      }
      if (!s.exit_after) s.exit_after = absl::ZeroDuration();
    } else if (kv.first == "after") {
      absl::Duration d;
      if (!absl::ParseDuration(kv.second, &d) || d < absl::ZeroDuration()) {
        return absl::InvalidArgumentError(absl::StrCat("bad duration: ", tok));
      }
      s.exit_after = d;
    } else if (kv.first == "oom") {
      s.oom = true;
      s.exit_code = 137;
      if (!s.exit_after) s.exit_after = absl::ZeroDuration();
    } else if (kv.first == "create-fail") {
      s.create_fail = true;
    } else if (kv.first == "start-fail") {
      s.start_fail = true;
    } else if (kv.first == "ignore-sigterm") {
      s.ignore_sigterm = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown script token: ", tok));
    }
  }
  return s;
}

std::string ScriptTextOf(const ContainerConfig& config) {
  auto it = config.annotations.find("fake-cri/script");
  if (it != config.annotations.end()) return it->second;
  for (const auto& [k, v] : config.envs) {
    if (k == "FAKE_CRI_SCRIPT") return v;
  }
  return "";
}

namespace {

// Splits a shell command into statements at ;, newlines, && and || and |
// (not at the & of a redirection like >&2), outside quotes.
std::vector<std::string> SplitStatements(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      cur += c;
    } else if (c == ';' || c == '\n' || c == '|' ||
               (c == '&' && (i == 0 || text[i - 1] != '>'))) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Splits a statement into words at blanks, outside quotes; quotes go.
std::vector<std::string> Words(const std::string& statement) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : statement) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

// `echo [-n] WORDS... [>&2]` as printed output.
OutputLine Echo(const std::vector<std::string>& words, absl::Duration at) {
  OutputLine line;
  line.at = at;
  std::vector<std::string> text;
  for (size_t i = 1; i < words.size(); ++i) {
    if (i == 1 && words[i] == "-n") {
      line.newline = false;
    } else if (words[i] == ">&2" || words[i] == "1>&2") {
      line.to_stderr = true;
    } else {
      text.push_back(words[i]);
    }
  }
  line.text = absl::StrJoin(text, " ");
  return line;
}

// Interprets one shell statement; returns false if it is something that
// runs indefinitely (a server, a loop), which makes the whole command run
// until stopped.
bool Statement(const std::vector<std::string>& words, absl::Duration* slept,
               std::optional<int>* exit_code, std::vector<OutputLine>* output) {
  if (words.empty()) return true;
  const std::string& w = words[0];
  double secs = 0;
  if (w == "sleep") {
    if (words.size() < 2 || !absl::SimpleAtod(words[1], &secs) || secs < 0 ||
        !std::isfinite(secs)) {
      return false;  // `sleep infinity`
    }
    *slept += absl::Seconds(secs);
    return true;
  }
  if (w == "exit") {
    int code = 0;
    if (words.size() > 1 && !absl::SimpleAtoi(words[1], &code)) code = 0;
    *exit_code = code;
    return true;
  }
  if (w == "false") {
    *exit_code = 1;
    return true;
  }
  if (w == "echo") {
    output->push_back(Echo(words, *slept));
    return true;
  }
  return w == "true" || w == ":" || w == "cat" || w == "pwd" || w == "env" ||
         w == "printenv" || w == "date" || w == "hostname" || w == "ls";
}

}  // namespace

absl::StatusOr<Script> ScriptOf(const ContainerConfig& config) {
  const std::string text = ScriptTextOf(config);
  if (!text.empty()) return ParseScript(text);
  std::vector<std::string> argv = config.command;
  argv.insert(argv.end(), config.args.begin(), config.args.end());
  Script s;
  if (argv.empty()) return s;  // the image's own command: runs
  std::vector<std::vector<std::string>> statements;
  const std::string& prog = argv[0];
  if ((prog == "sh" || prog == "/bin/sh" || prog == "bash" ||
       prog == "/bin/bash") &&
      argv.size() >= 3 && argv[1] == "-c") {
    for (const std::string& st : SplitStatements(argv[2])) {
      statements.push_back(Words(st));
    }
  } else {
    statements.push_back(argv);
  }
  absl::Duration slept = absl::ZeroDuration();
  std::optional<int> exit_code;
  std::vector<OutputLine> output;
  for (const auto& st : statements) {
    if (!Statement(st, &slept, &exit_code, &output)) {
      s.output = std::move(output);  // printed before it ran on
      return s;                      // runs until stopped
    }
    if (exit_code) break;
  }
  s.output = std::move(output);
  s.exit_code = exit_code.value_or(0);
  s.exit_after = slept;
  return s;
}

ImageBehaviour ImageBehaviourOf(std::string_view image) {
  ImageBehaviour b;
  absl::string_view img(image.data(), image.size());
  b.pull_fails = absl::StrContains(img, "pull-fail");
  b.not_found = absl::StrContains(img, "notfound");
  size_t pos = img.find("pull-");
  while (pos != absl::string_view::npos) {
    absl::string_view rest = img.substr(pos + 5);
    size_t ms = rest.find("ms");
    int64_t n = 0;
    if (ms != absl::string_view::npos &&
        absl::SimpleAtoi(rest.substr(0, ms), &n)) {
      b.pull_latency = absl::Milliseconds(n);
      break;
    }
    pos = img.find("pull-", pos + 5);
  }
  return b;
}

}  // namespace zun::cri::fake
