#include "cni/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace zun::cni::nl {

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENODEV:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case EINVAL:
    case ERANGE:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::StatusOr<Netns> Netns::Open(const std::string& path) {
  if (path.empty()) return absl::NotFoundError("no netns path given");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("netns ", path, " not found"));
    }
    return ErrnoStatus(err, absl::StrCat("opening netns ", path));
  }
  Netns ns(fd, path);
  const int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) {
    return absl::NotFoundError(
        absl::StrCat(path, " is not a network namespace (stale mount point?)"));
  }
  if (type != CLONE_NEWNET) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is a namespace of another type, not network"));
  }
  return ns;
}

Netns::Netns(Netns&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

Netns& Netns::operator=(Netns&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

Netns::~Netns() {
  if (fd_ >= 0) close(fd_);
}

bool Netns::IsCurrent() const {
  struct stat mine {};
  struct stat current {};
  if (fstat(fd_, &mine) != 0) return false;
  if (stat("/proc/thread-self/ns/net", &current) != 0) return false;
  return mine.st_dev == current.st_dev && mine.st_ino == current.st_ino;
}

absl::Status Netns::Run(absl::FunctionRef<absl::Status()> fn) const {
  absl::Status result;
  try {
    std::thread worker([&] {
      if (setns(fd_, CLONE_NEWNET) != 0) {
        result = ErrnoStatus(errno, absl::StrCat("entering netns ", path_));
        return;
      }
      result = fn();
      // The thread ends here, still inside the namespace: no thread that
      // outlives this call is ever switched.
    });
    worker.join();
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("starting a thread for netns ", path_, ": ", e.what()));
  }
  return result;
}

absl::Status WriteSysctl(const Netns& ns, const std::string& key,
                         const std::string& value) {
  const std::string path = absl::StrCat("/proc/sys/", key);
  return ns.Run([&]() -> absl::Status {
    // /proc/sys/net is resolved against the opening thread's namespace.
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return ErrnoStatus(
          errno, absl::StrCat("opening ", path, " in netns ", ns.path()));
    }
    ssize_t n = write(fd, value.data(), value.size());
    const int err = errno;
    close(fd);
    if (n != static_cast<ssize_t>(value.size())) {
      return ErrnoStatus(n < 0 ? err : EIO,
                         absl::StrCat("writing ", value, " to ", path,
                                      " in netns ", ns.path()));
    }
    return absl::OkStatus();
  });
}

}  // namespace zun::cni::nl
