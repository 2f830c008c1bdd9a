// File: subprocess.h
// Child processes for tests (the agent, fake-cri, the Python oslo client):
// started with fork/exec, output to a log file, stopped by signal with a
// deadline. Each child leads a process group of its own: Stop() and the
// destructor signal the whole group, so a wrapper (a script running perf
// running the agent) leaves nothing behind either. The destructor kills
// (SIGKILL) and reaps a child still running, so a failing test leaves no
// process behind. Thread-compatible: one thread drives a Subprocess.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zun::testing {

class Subprocess {
 public:
  // Starts argv[0] (a path) with `env` added to the environment; stdout and
  // stderr go to `log_path` (appended).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv, const std::string& log_path,
      const std::map<std::string, std::string>& env = {});
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool Running();
  // Signals the child alone (a script's trap decides what follows).
  absl::Status Signal(int sig);
  // Waits for exit; returns the exit status (128+signal if killed), or
  // DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // SIGTERM to the child's group, then SIGKILL after `grace` (to what of
  // the group still runs by then); returns the child's exit status.
  absl::StatusOr<int> Stop(absl::Duration grace = absl::Seconds(10));
  const std::string& log_path() const { return log_path_; }

 private:
  Subprocess(pid_t pid, std::string log)
      : pid_(pid), log_path_(std::move(log)) {}
  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int status_ = 0;
};

struct CommandResult {
  int exit_code = 0;
  std::string output;  // stdout and stderr interleaved
};

// Runs a command to completion (killed after `timeout`).
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv, absl::Duration timeout,
    const std::map<std::string, std::string>& env = {});

std::string ReadFile(const std::string& path);

}  // namespace zun::testing
