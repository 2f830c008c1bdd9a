#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/poll.h"

extern char** environ;

namespace zun::testing {
namespace {

// Live (not zombie) processes of process group `pgid`, from /proc: the
// child leads its own group, so these are what it started (a wrapper
// script's perf and agent) and still runs after it has gone.
std::vector<pid_t> LiveGroupMembers(pid_t pgid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(e.path().filename().string(), &pid)) continue;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parens.
    const std::string stat = ReadFile(e.path().string() + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(rest >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z') out.push_back(pid);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const std::vector<std::string>& argv, const std::string& log_path,
    const std::map<std::string, std::string>& env) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  int fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", log_path));
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // Child: own process group, output to the log, default signal mask.
    setpgid(0, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(fd);
  return std::unique_ptr<Subprocess>(new Subprocess(pid, log_path));
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    kill(-pid_, SIGKILL);  // the whole group: a wrapper's children too
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
}

bool Subprocess::Running() {
  if (reaped_) return false;
  int st;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = st;
    return false;
  }
  return true;
}

absl::Status Subprocess::Signal(int sig) {
  if (reaped_) return absl::FailedPreconditionError("process already exited");
  if (kill(pid_, sig) != 0) return absl::InternalError(strerror(errno));
  return absl::OkStatus();
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid_, " still running"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

absl::StatusOr<int> Subprocess::Stop(absl::Duration grace) {
  if (!Running()) return Wait(absl::ZeroDuration());
  const absl::Time deadline = absl::Now() + grace;
  // The group, not only the child: a wrapper script dies on SIGTERM without
  // passing it on, and what it started would outlive the test.
  if (kill(-pid_, SIGTERM) != 0) kill(pid_, SIGTERM);
  absl::StatusOr<int> r = Wait(grace);
  if (!r.ok()) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    r = Wait(absl::Seconds(10));
  }
  // The group outlives its leader while members run; they are not our
  // children, so look for them until the deadline, then kill them.
  if (!PollUntil([&] { return LiveGroupMembers(pid_).empty(); },
                 std::max(deadline - absl::Now(), absl::ZeroDuration()),
                 absl::Milliseconds(10))) {
    for (pid_t m : LiveGroupMembers(pid_)) kill(m, SIGKILL);
  }
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv, absl::Duration timeout,
    const std::map<std::string, std::string>& env) {
  char tmpl[] = "/tmp/zun-cmd-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) return absl::InternalError("mkstemp");
  close(fd);
  const std::string log = tmpl;
  absl::StatusOr<std::unique_ptr<Subprocess>> p =
      Subprocess::Start(argv, log, env);
  if (!p.ok()) {
    unlink(log.c_str());
    return p.status();
  }
  absl::StatusOr<int> code = (*p)->Wait(timeout);
  if (!code.ok()) {
    (*p)->Signal(SIGKILL).IgnoreError();
    (*p)->Wait(absl::Seconds(10)).IgnoreError();
  }
  CommandResult r;
  r.output = ReadFile(log);
  unlink(log.c_str());
  if (!code.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(argv[0], " timed out; output:\n", r.output));
  }
  r.exit_code = *code;
  return r;
}

}  // namespace zun::testing
