#include "agent/pod_log_index.h"

#include <algorithm>
#include <utility>

#include "node/host_fs.h"

namespace zun::agent {

PodLogIndex::PodLogIndex(std::string root) : root_(std::move(root)) {}

void PodLogIndex::Add(const std::string& uuid, const std::string& dir) {
  if (root_.empty() || uuid.empty()) return;
  absl::MutexLock lock(&mu_);
  AddLocked(uuid, dir);
}

void PodLogIndex::AddLocked(const std::string& uuid, const std::string& dir) {
  std::vector<std::string>& dirs = dirs_[uuid];
  if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
    dirs.push_back(dir);
  }
}

std::vector<std::string> PodLogIndex::Take(const std::string& uuid) {
  absl::MutexLock lock(&mu_);
  if (!loaded_) LoadLocked();
  auto it = dirs_.find(uuid);
  if (it == dirs_.end()) return {};
  std::vector<std::string> out = std::move(it->second);
  dirs_.erase(it);
  return out;
}

void PodLogIndex::LoadLocked() {
  loaded_ = true;
  if (root_.empty()) return;
  // Every entry is <...>_<uuid>: the capsule is what follows the last '_'.
  for (const std::string& path : node::EntriesEndingWith(root_, "")) {
    const size_t slash = path.rfind('/');
    const size_t sep = path.rfind('_');
    if (sep == std::string::npos || sep < slash || sep + 1 == path.size()) {
      continue;
    }
    AddLocked(path.substr(sep + 1), path);
  }
}

}  // namespace zun::agent
