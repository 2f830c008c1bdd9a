// File: fake_script.h
// Scripted workloads for the fake CRI runtime. A container's behaviour comes
// from its annotation `fake-cri/script` or, failing that, its environment
// variable FAKE_CRI_SCRIPT (what a Zun capsule can set), e.g.
//
//   ""                       run until stopped
//   "exit=0 after=200ms"     exit 0 ("Completed") 200 ms after start
//   "exit=3"                 exit 3 ("Error") right after start
//   "exit=1 after=50ms"      crash 50 ms after every start
//   "oom after=1s"           killed with 137 / "OOMKilled"
//   "create-fail"            CreateContainer fails (UNKNOWN)
//   "start-fail"             StartContainer fails (UNKNOWN)
//   "ignore-sigterm"         StopContainer takes the full grace period
//
// Image behaviours come from the image name: a name containing "pull-fail"
// cannot be pulled, "pull-<N>ms" takes N ms to pull, and "notfound" is
// unknown to the registry.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cri/types.h"

namespace zun::cri::fake {

// A line the workload prints: `at` after its start, on stdout or stderr;
// without a newline (echo -n) it is a partial line.
struct OutputLine {
  absl::Duration at = absl::ZeroDuration();
  bool to_stderr = false;
  std::string text;
  bool newline = true;
};

struct Script {
  std::optional<absl::Duration> exit_after;  // nullopt: runs until stopped
  // What the command line echoes (`echo X`, `echo X >&2`), in order.
  std::vector<OutputLine> output;
  int exit_code = 0;
  bool oom = false;
  bool create_fail = false;
  bool start_fail = false;
  bool ignore_sigterm = false;
};

// Parses a script; InvalidArgument names the bad token.
absl::StatusOr<Script> ParseScript(std::string_view text);
// The script text of a container config ("" if none).
std::string ScriptTextOf(const ContainerConfig& config);
// The behaviour of a container: its explicit script if it has one, else one
// read from its command line, so the same container behaves alike on the
// fake and on containerd: `sleep N` runs N seconds, `exit N` / `false` /
// `true` exit with that code (after any sleeps before them), e.g.
// ["sh", "-c", "echo hi; sleep 2; exit 3"] exits 3 after 2 s, having printed
// "hi" (`output`; `echo X >&2` prints on stderr). Anything else runs until
// stopped.
absl::StatusOr<Script> ScriptOf(const ContainerConfig& config);

struct ImageBehaviour {
  bool pull_fails = false;
  bool not_found = false;
  absl::Duration pull_latency = absl::ZeroDuration();
};
ImageBehaviour ImageBehaviourOf(std::string_view image);

}  // namespace zun::cri::fake
