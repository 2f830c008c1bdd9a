#include "node/host_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"

namespace zun::node {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> Hierarchies(const std::string& root) {
  std::vector<std::string> out;
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string p = root + "/" + name;
    struct stat st;
    // Symlinked aliases (cpu -> cpu,cpuacct) point at the same hierarchy.
    if (lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) out.push_back(p);
  }
  closedir(d);
  return out;
}

// Below this depth a tree is removed by std::filesystem (no recursion, so
// no stack limit, for a tenant's volume however deep).
constexpr int kMaxRecursion = 64;

// Removes the entry `name` of the directory open as `dirfd` (`path` names
// it, for errors and for deep trees) and, if it is a directory, everything
// below it. Each entry is removed by its type: unlinkat for what is not a
// directory, AT_REMOVEDIR for what is; symlinks are removed, never
// followed. (std::filesystem::remove_all tries unlink on every directory
// first, which takes the parent directory's lock once more only to fail:
// the pod log root's lock is what concurrent creates and deletes share.)
// Returns 0 or an errno; an entry already gone is fine.
int RemoveAt(int dirfd, const char* name, unsigned char type,
             const std::string& path, int depth) {
  if (type == DT_UNKNOWN) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return errno == ENOENT ? 0 : errno;
    }
    type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
  }
  if (type != DT_DIR) {
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR) return errno;  // it became a directory meanwhile
  }
  if (depth >= kMaxRecursion) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    return ec.value();
  }
  const int fd =
      openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    if (errno != ENOTDIR && errno != ELOOP) return errno;
    // Replaced by a file or a symlink meanwhile.
    return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : errno;
  }
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    const int err = errno;
    close(fd);
    return err;
  }
  int err = 0;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    const int r = RemoveAt(::dirfd(d), e->d_name, e->d_type,
                           path + "/" + e->d_name, depth + 1);
    if (r != 0 && err == 0) err = r;
  }
  closedir(d);  // closes fd
  if (err != 0) return err;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
  return errno;
}

// rmdir of `dir` and its subdirectories (cgroup directories hold only
// control files, which rmdir removes with them).
absl::Status RemoveTree(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("opendir ", dir, ": ", strerror(errno)));
  }
  std::vector<std::string> children;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (IsDir(dir + "/" + name)) children.push_back(dir + "/" + name);
  }
  closedir(d);
  for (const auto& c : children) {
    if (absl::Status s = RemoveTree(c); !s.ok()) return s;
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    if (errno == EBUSY) {
      return absl::FailedPreconditionError(
          absl::StrCat("cgroup ", dir, " still has processes"));
    }
    // A plain directory in a test tree may hold files: remove them too.
    if (errno == ENOTEMPTY) {
      DIR* f = opendir(dir.c_str());
      if (f != nullptr) {
        while (dirent* e = readdir(f)) {
          std::string name = e->d_name;
          if (name != "." && name != "..") unlink((dir + "/" + name).c_str());
        }
        closedir(f);
      }
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
    }
    return absl::InternalError(
        absl::StrCat("rmdir ", dir, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MakeDirs(const std::string& path, unsigned mode) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("not an absolute path: ", path));
  }
  // Usually only the leaf is missing: one mkdir. (mkdir of an existing
  // parent is not free: it takes the grandparent's lock, which every
  // concurrent create under the same log root contends for.)
  if (mkdir(path.c_str(), mode) == 0) return absl::OkStatus();
  if (errno != ENOENT) {
    if (errno == EEXIST && IsDir(path)) return absl::OkStatus();
    if (errno != EEXIST) {
      return absl::InternalError(
          absl::StrCat("mkdir ", path, ": ", strerror(errno)));
    }
  }
  std::string cur;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    if (!cur.empty() && mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return absl::InternalError(
          absl::StrCat("mkdir ", cur, ": ", strerror(errno)));
    }
    pos = next + 1;
  }
  if (!IsDir(path)) {
    return absl::InternalError(absl::StrCat(path, " is not a directory"));
  }
  return absl::OkStatus();
}

absl::Status RemovePodCgroup(const std::string& root,
                             const std::string& cgroup_parent) {
  if (cgroup_parent.empty() || cgroup_parent.find("..") != std::string::npos) {
    return absl::InvalidArgumentError("bad cgroup parent");
  }
  absl::Status first;
  for (const std::string& h : Hierarchies(root)) {
    absl::Status s = RemoveTree(h + cgroup_parent);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

bool PodCgroupExists(const std::string& root,
                     const std::string& cgroup_parent) {
  for (const std::string& h : Hierarchies(root)) {
    if (IsDir(h + cgroup_parent)) return true;
  }
  return false;
}

absl::Status RemoveTreeUnder(const std::string& root, const std::string& path) {
  namespace fs = std::filesystem;
  if (root.empty() || path.empty() || root[0] != '/' || path[0] != '/') {
    return absl::InvalidArgumentError("paths must be absolute");
  }
  const fs::path r = fs::path(root).lexically_normal();
  const fs::path p = fs::path(path).lexically_normal();
  const fs::path rel = p.lexically_relative(r);
  if (rel.empty() || rel == "." || *rel.begin() == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not inside '", root, "'"));
  }
  const std::string target = p.string();
  if (const int err = RemoveAt(AT_FDCWD, target.c_str(), DT_UNKNOWN, target, 0);
      err != 0) {
    return absl::InternalError(
        absl::StrCat("removing ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

std::vector<std::string> EntriesEndingWith(const std::string& dir,
                                           const std::string& suffix) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name.size() < suffix.size()) continue;
    if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  return out;
}

}  // namespace zun::node
