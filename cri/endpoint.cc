#include "cri/endpoint.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace zun::cri {

absl::Status ValidateCriEndpoint(const std::string& endpoint) {
  constexpr std::string_view kScheme = "unix://";
  if (!absl::StartsWith(endpoint, AV(kScheme))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CRI endpoint '", endpoint, "' must be a unix socket: unix:///path"));
  }
  std::string path = endpoint.substr(kScheme.size());
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("CRI endpoint '", endpoint, "' needs an absolute path"));
  }
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CRI socket path '", path, "' is longer than a unix socket allows (",
        sizeof(sockaddr_un{}.sun_path) - 1, " bytes)"));
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          "CRI socket path contains a control character");
    }
  }
  if (absl::StrContains(path, "/../") || absl::EndsWith(path, "/..")) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRI socket path '", path, "' must not contain '..'"));
  }
  return absl::OkStatus();
}

absl::Status CheckCriSocket(const std::string& endpoint) {
  if (absl::Status s = ValidateCriEndpoint(endpoint); !s.ok()) return s;
  const std::string path = endpoint.substr(std::string_view("unix://").size());
  const uid_t me = geteuid();
  auto trusted_owner = [me](uid_t uid) { return uid == 0 || uid == me; };
  // Every directory from / down to the socket's: the prefixes that end
  // before each '/' ("/" for the first).
  for (size_t pos = 0; pos != std::string::npos;
       pos = path.find('/', pos + 1)) {
    const std::string dir = pos == 0 ? "/" : path.substr(0, pos);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      return absl::NotFoundError(
          absl::StrCat("CRI socket directory ", dir, " does not exist"));
    }
    const bool others_write = (st.st_mode & 0022) != 0;
    if (!trusted_owner(st.st_uid) ||
        (others_write && (st.st_mode & S_ISVTX) == 0)) {
      return absl::FailedPreconditionError(
          absl::StrCat("CRI socket directory ", dir,
                       " may be written by other users: anyone could plant a "
                       "runtime there"));
    }
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("no CRI socket at ", path));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a unix socket"));
  }
  if (!trusted_owner(st.st_uid)) {
    return absl::FailedPreconditionError(
        absl::StrCat("CRI socket ", path, " belongs to uid ", st.st_uid,
                     ", not to root or to this agent"));
  }
  return absl::OkStatus();
}

}  // namespace zun::cri
