#include "cri/types.h"

#include <algorithm>

namespace zun::cri {

const char* ToString(ContainerState s) {
  switch (s) {
    case ContainerState::kCreated:
      return "CREATED";
    case ContainerState::kRunning:
      return "RUNNING";
    case ContainerState::kExited:
      return "EXITED";
    case ContainerState::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

const char* ToString(SandboxState s) {
  return s == SandboxState::kReady ? "READY" : "NOTREADY";
}

namespace {

void KeepLabels(const std::vector<std::string>& keys, Labels& labels) {
  if (keys.empty()) return;
  for (auto it = labels.begin(); it != labels.end();) {
    if (std::find(keys.begin(), keys.end(), it->first) == keys.end()) {
      it = labels.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

void Project(const ListProjection& keep, SandboxInfo& info) {
  KeepLabels(keep.label_keys, info.labels);
  if (keep.details) return;
  info.name.clear();
  info.uid.clear();
  info.namespace_.clear();
  info.runtime_handler.clear();
  info.annotations.clear();
}

void Project(const ListProjection& keep, ContainerInfo& info) {
  KeepLabels(keep.label_keys, info.labels);
  if (keep.details) return;
  info.name.clear();
  info.image.clear();
  info.image_ref.clear();
  info.annotations.clear();
}

}  // namespace zun::cri
