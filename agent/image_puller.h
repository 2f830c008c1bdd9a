// File: image_puller.h
// Makes container images present according to Zun's image_pull_policy
// (always / ifnotpresent / never), through ImageStatus and PullImage. Pulls
// of the same image are shared: while one is in flight, every other capsule
// needing that image waits for it instead of pulling again (single flight),
// and a slow pull never blocks capsules that need other images.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cri/cri_client.h"

namespace zun::agent {

class ImagePuller {
 public:
  explicit ImagePuller(cri::CriClient& cri) : cri_(cri) {}

  // Returns the reference to hand to CreateContainer (the image id the
  // runtime reports). `policy` is lowercase; "" means always (Zun's
  // default). FAILED_PRECONDITION for "never" with the image absent; the
  // runtime's error (annotated with the image) when a pull fails.
  absl::StatusOr<std::string> Ensure(const std::string& image,
                                     const std::string& policy,
                                     const std::optional<cri::AuthConfig>& auth,
                                     const cri::PodSandboxConfig* sandbox);

 private:
  struct Flight {
    absl::Notification done;
    absl::StatusOr<std::string> result = absl::UnknownError("pending");
  };
  absl::StatusOr<std::string> Pull(const std::string& image,
                                   const std::optional<cri::AuthConfig>& auth,
                                   const cri::PodSandboxConfig* sandbox);

  cri::CriClient& cri_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Flight>> in_flight_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::agent
