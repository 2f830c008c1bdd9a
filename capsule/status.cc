#include "capsule/status.h"

namespace zun::capsule {

std::string_view StatusOfContainerState(cri::ContainerState s) {
  switch (s) {
    case cri::ContainerState::kCreated:
      return kStatusCreated;
    case cri::ContainerState::kRunning:
      return kStatusRunning;
    case cri::ContainerState::kExited:
      return kStatusStopped;
    case cri::ContainerState::kUnknown:
      return kStatusUnknown;
  }
  return kStatusUnknown;
}

}  // namespace zun::capsule
