#include "cri/types.h"

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

}  // namespace zun::cri
