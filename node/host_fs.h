// File: host_fs.h
// The few host filesystem operations the agent performs itself: pod log
// directories (containerd writes the logs but the directory is ours) and pod
// cgroups (runc creates <cgroup_parent> in every hierarchy but removes only
// the container leaves). Paths are rooted at configurable directories so
// tests run against temporary trees.
// Thread-safe (stateless).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace zun::node {

// mkdir -p with `mode` for the directories it creates.
absl::Status MakeDirs(const std::string& path, unsigned mode);

// Removes <root>/<hierarchy>/<cgroup_parent> in every hierarchy under
// `cgroup_fs_root` (v1 controllers and the unified mount), deepest first.
// Directories that are gone already are fine; a cgroup that still has
// processes stays and the call returns FAILED_PRECONDITION naming it.
absl::Status RemovePodCgroup(const std::string& cgroup_fs_root,
                             const std::string& cgroup_parent);

// Removes `path` and everything below it, if `path` lies strictly inside
// `root` (compared lexically after normalisation; symlinks below are
// removed, never followed). INVALID_ARGUMENT for a path outside `root`;
// OK when it is gone already.
absl::Status RemoveTreeUnder(const std::string& root, const std::string& path);

// The entries directly under `dir` whose names end with `suffix` (full
// paths); empty if `dir` cannot be read.
std::vector<std::string> EntriesEndingWith(const std::string& dir,
                                           const std::string& suffix);

// True if <cgroup_fs_root>/<any hierarchy>/<cgroup_parent> exists.
bool PodCgroupExists(const std::string& cgroup_fs_root,
                     const std::string& cgroup_parent);

}  // namespace zun::node
