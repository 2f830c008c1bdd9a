#include "cri/fake_script.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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
