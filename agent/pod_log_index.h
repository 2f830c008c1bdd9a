// File: pod_log_index.h
// Which pod log directories exist for each capsule, so that a delete finds
// its capsule's directories without listing the whole log root. A capsule
// may have several: the directory's name carries the capsule's name
// (<namespace>_<name>_<uuid>, as kubelet names them), and a capsule
// renamed before its sandbox was recreated has one under each name.
//
// The index is the log root as listed once (at the first Take) plus every
// directory Added since. Directories made by others after that listing
// (a runtime client other than this agent) are not in it: callers that
// remove what no capsule of theirs made list the root themselves.
// Thread-safe: every method may be called from any thread.
#pragma once

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace zun::agent {

class PodLogIndex {
 public:
  // `root`: the pod log root ("" for none: the index stays empty).
  explicit PodLogIndex(std::string root);

  // Records `dir` (a full path directly under the root) as a log directory
  // of capsule `uuid`. Idempotent.
  void Add(const std::string& uuid, const std::string& dir);

  // The log directories of capsule `uuid` (full paths), forgotten by the
  // index: the caller removes them. Lists the root on the first call.
  std::vector<std::string> Take(const std::string& uuid);

 private:
  void AddLocked(const std::string& uuid, const std::string& dir)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string root_;
  absl::Mutex mu_;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, std::vector<std::string>> dirs_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::agent
