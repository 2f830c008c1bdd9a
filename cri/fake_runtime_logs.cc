// The fake runtime's container log files (FakeRuntime's members that write
// them): what a scripted workload prints, in the CRI log format that
// containerd writes and kubelet's and zun-agent's readers parse:
//
//   <RFC 3339 time, ns> <stdout|stderr> <F|P> <text>
//
// F ends a line; P is a partial line (printed without a newline).
#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cri/fake_runtime.h"

namespace zun::cri::fake {
namespace {

// Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped.
std::string Rfc3339Nano(int64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ",
                          absl::FromUnixNanos(unix_nanos), absl::UTCTimeZone());
}

// Opens (creating) the file for appending; false if it cannot be.
bool Touch(const std::string& path) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace

void FakeRuntime::WriteLogsLocked(Container& c, int64_t now) {
  if (c.log_file.empty() || c.log_lines_written >= c.script.output.size()) {
    return;
  }
  std::ofstream out(c.log_file, std::ios::app);
  while (c.log_lines_written < c.script.output.size()) {
    const OutputLine& line = c.script.output[c.log_lines_written];
    const int64_t at = c.status.started_at + absl::ToInt64Nanoseconds(line.at);
    if (at > now) break;
    out << Rfc3339Nano(at) << (line.to_stderr ? " stderr " : " stdout ")
        << (line.newline ? "F " : "P ") << line.text << "\n";
    ++c.log_lines_written;
  }
}

absl::Status FakeRuntime::ReopenContainerLog(const std::string& id) {
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("an error occurred when try to find container \"", id,
                     "\": not found"));
  }
  RefreshLocked(*c, now);
  if (c->status.state != ContainerState::kRunning) {
    return absl::UnknownError(
        absl::StrCat("container \"", id, "\" is not running"));
  }
  if (!c->log_file.empty() && !Touch(c->log_file)) {
    return absl::UnknownError(
        absl::StrCat("failed to create and open log \"", c->log_file, "\""));
  }
  return absl::OkStatus();
}

}  // namespace zun::cri::fake
