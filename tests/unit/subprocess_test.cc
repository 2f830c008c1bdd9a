// The tests' Subprocess: a wrapper script that dies on SIGTERM without
// passing it on must not leave what it started running.
#include "tests/support/subprocess.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "tests/support/poll.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

// True while `pid` runs (a zombie waiting for its reaper does not).
bool Alive(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() &&
         stat[close + 2] != 'Z';
}

// Starts `sh -c script` (which writes its child's pid to dir/pid) and
// returns the child's pid, once written.
pid_t StartWrapped(const ScopedTempDir& s, const std::string& script,
                   std::unique_ptr<Subprocess>* out) {
  auto p = Subprocess::Start({"/bin/sh", "-c", script}, s.path() + "/log",
                             {{"PIDFILE", s.path() + "/pid"}});
  REQUIRE(p.ok());
  *out = std::move(*p);
  int pid = 0;
  REQUIRE(PollUntil([&] {
    const std::string text = ReadFile(s.path() + "/pid");
    return absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) && pid > 0;
  }));
  REQUIRE(Alive(pid));
  return pid;
}

TEST_CASE("Stop ends what a wrapper script started", "[subprocess]") {
  ScopedTempDir s("sp");
  std::unique_ptr<Subprocess> p;
  // `sleep` is a child of the shell, not exec'd: the shell dies on SIGTERM.
  const pid_t child =
      StartWrapped(s, "sleep 300 & echo $! > \"$PIDFILE\"; wait", &p);
  absl::StatusOr<int> rc = p->Stop(absl::Seconds(10));
  REQUIRE(rc.ok());
  CHECK(PollUntil([&] { return !Alive(child); }));
}

TEST_CASE("Stop kills at the deadline a wrapper's child that ignores TERM",
          "[subprocess]") {
  ScopedTempDir s("sp");
  std::unique_ptr<Subprocess> p;
  const pid_t child = StartWrapped(
      s,
      "sh -c 'trap \"\" TERM; echo $$ > \"$PIDFILE\"; while :; do sleep 1; "
      "done' & wait",
      &p);
  absl::StatusOr<int> rc = p->Stop(absl::Milliseconds(300));
  REQUIRE(rc.ok());
  CHECK(PollUntil([&] { return !Alive(child); }));
}

TEST_CASE("The destructor kills a wrapper's children", "[subprocess]") {
  ScopedTempDir s("sp");
  std::unique_ptr<Subprocess> p;
  const pid_t child =
      StartWrapped(s, "sleep 300 & echo $! > \"$PIDFILE\"; wait", &p);
  p.reset();
  CHECK(PollUntil([&] { return !Alive(child); }));
}

TEST_CASE("Signal reaches the child alone", "[subprocess]") {
  ScopedTempDir s("sp");
  std::unique_ptr<Subprocess> p;
  // The shell's trap answers SIGUSR1; its child (which SIGUSR1 would end)
  // must not see it.
  const pid_t child = StartWrapped(
      s, "trap 'exit 7' USR1; sleep 300 & echo $! > \"$PIDFILE\"; wait", &p);
  REQUIRE(p->Signal(SIGUSR1).ok());
  absl::StatusOr<int> rc = p->Wait(absl::Seconds(10));
  REQUIRE(rc.ok());
  CHECK(*rc == 7);
  CHECK(Alive(child));
  kill(child, SIGKILL);
}

}  // namespace
}  // namespace zun::testing
