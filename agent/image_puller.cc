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
  // Pulls share a flight only with the same credentials: a pull with bad
  // credentials must not succeed on another capsule's good ones.
  std::string key = image;
  if (auth) {
    for (const std::string* part :
         {&auth->username, &auth->password, &auth->auth, &auth->server_address,
          &auth->identity_token, &auth->registry_token}) {
      key.push_back('\0');
      key += *part;
    }
  }
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    absl::MutexLock l(&mu_);
    auto& slot = in_flight_[key];
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
    in_flight_.erase(key);
  }
  flight->done.Notify();
  return ref;
}

}  // namespace zun::agent
