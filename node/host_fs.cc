#include "node/host_fs.h"

#include <dirent.h>
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
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("removing ", path, ": ", ec.message()));
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
