// File: netns.h
// Network namespaces for the VIF pluggers: a handle on a netns file, a way
// to run a short function inside one, and /proc/sys writes as seen from it.
//
// setns() switches only the calling thread. Netns::Run() therefore runs the
// function on a temporary thread that enters the namespace and ends there;
// no caller's thread (agent, pool, gRPC) ever changes namespace. Sockets
// created inside stay bound to the namespace and may be used from any
// thread afterwards.
//
// Threads: a Netns is immutable after Open() and may be shared.
#pragma once

#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zun::cni::nl {

// The status of errno `err`: "<what>: <strerror>"; ENOENT/ENODEV give
// NOT_FOUND, EEXIST ALREADY_EXISTS, EPERM/EACCES PERMISSION_DENIED,
// EINVAL/ERANGE INVALID_ARGUMENT, anything else INTERNAL.
absl::Status ErrnoStatus(int err, absl::string_view what);

// A handle on a network namespace file (a bind-mounted netns such as
// /var/run/netns/NAME, or /proc/PID/ns/net). Move-only; closes its fd.
class Netns {
 public:
  // NOT_FOUND when `path` is empty, does not exist, or is not a network
  // namespace (e.g. the stale mount point of a deleted netns).
  static absl::StatusOr<Netns> Open(const std::string& path);

  Netns(Netns&& other) noexcept;
  Netns& operator=(Netns&& other) noexcept;
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns();

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  // Whether this is the namespace the calling thread is in.
  bool IsCurrent() const;
  // Runs `fn` on a temporary thread that first enters this namespace, and
  // returns what `fn` returns (or why the thread could not enter). Blocks
  // until the thread has finished; the caller's thread never switches.
  absl::Status Run(absl::FunctionRef<absl::Status()> fn) const;

 private:
  Netns(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Writes `value` to /proc/sys/`key` (e.g. "net/ipv6/conf/eth0/disable_ipv6")
// as seen from `ns` (on a thread inside it). NOT_FOUND when the key does not
// exist there.
absl::Status WriteSysctl(const Netns& ns, const std::string& key,
                         const std::string& value);

}  // namespace zun::cni::nl
