#include "agent/image_puller.h"

#include "absl/strings/str_cat.h"

namespace zun::agent {

absl::StatusOr<std::string> ImagePuller::Ensure(
    const std::string& image, const std::string& policy,
    const std::optional<cri::AuthConfig>& auth,
    const cri::PodSandboxConfig* sandbox) {
  if (policy == "never" || policy == "ifnotpresent") {
    absl::StatusOr<std::optional<cri::ImageInfo>> st = cri_.ImageStatus(image);
    if (!st.ok()) return st.status();
    if (st->has_value()) return (*st)->id;
    if (policy == "never") {
      return absl::FailedPreconditionError(absl::StrCat(
          "image '", image, "' is not present and its pull policy is 'never'"));
    }
  }
  return Pull(image, auth, sandbox);
}

absl::StatusOr<std::string> ImagePuller::Pull(
    const std::string& image, const std::optional<cri::AuthConfig>& auth,
    const cri::PodSandboxConfig* sandbox) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    absl::MutexLock l(&mu_);
    auto& slot = in_flight_[image];
    if (!slot) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    flight->done.WaitForNotification();
    return flight->result;
  }
  absl::StatusOr<std::string> ref = cri_.PullImage(image, auth, sandbox);
  if (ref.ok() && ref->empty()) ref = image;
  if (!ref.ok()) {
    ref = absl::Status(ref.status().code(),
                       absl::StrCat("pull of image '", image,
                                    "' failed: ", ref.status().message()));
  }
  flight->result = ref;
  {
    absl::MutexLock l(&mu_);
    in_flight_.erase(image);
  }
  flight->done.Notify();
  return ref;
}

}  // namespace zun::agent
