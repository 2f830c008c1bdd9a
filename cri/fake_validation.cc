#include "cri/fake_validation.h"

#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace zun::cri::fake {
namespace {

namespace pb = ::runtime::v1;

// containerd's generateUserString: a group needs a user.
absl::Status CheckUser(bool has_user, const std::string& username,
                       const pb::Int64Value* group) {
  if (group != nullptr && !has_user && username.empty()) {
    return absl::UnknownError(
        absl::StrCat("failed to generate user string: user group \"",
                     group->value(), "\" is specified without user"));
  }
  return absl::OkStatus();
}

absl::Status CheckLocalhostProfile(const std::string& path) {
  if (path.empty()) {
    return absl::UnknownError(
        "failed to generate seccomp spec opts: localhost profile is empty");
  }
  if (access(path.c_str(), R_OK) != 0) {
    return absl::UnknownError(
        absl::StrCat("failed to generate seccomp spec opts: cannot load "
                     "seccomp profile \"",
                     path, "\""));
  }
  return absl::OkStatus();
}

// The profile as containerd picks it: the `seccomp` message first, else the
// deprecated path.
absl::Status CheckSeccomp(bool has_profile, const pb::SecurityProfile& profile,
                          const std::string& path) {
  if (has_profile) {
    if (profile.profile_type() == pb::SecurityProfile::Localhost) {
      return CheckLocalhostProfile(profile.localhost_ref());
    }
    return absl::OkStatus();
  }
  if (path.empty() || path == "unconfined" || path == "runtime/default" ||
      path == "docker/default") {
    return absl::OkStatus();
  }
  constexpr char kLocalhost[] = "localhost/";
  if (!absl::StartsWith(path, kLocalhost)) {
    return absl::UnknownError(absl::StrCat(
        "failed to generate seccomp spec opts: unknown seccomp profile "
        "option: \"",
        path, "\""));
  }
  return CheckLocalhostProfile(path.substr(sizeof(kLocalhost) - 1));
}

// The deprecated string form, which old clients (and critest) still send;
// reading it is the point, so the deprecation warning is silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
template <typename SecurityContext>
const std::string& DeprecatedProfilePath(const SecurityContext& sc) {
  return sc.seccomp_profile_path();
}
#pragma GCC diagnostic pop

}  // namespace

absl::Status ValidateSandboxConfig(const pb::PodSandboxConfig& c) {
  if (!c.has_metadata()) {
    return absl::UnknownError("sandbox config must include metadata");
  }
  const pb::LinuxSandboxSecurityContext& sc = c.linux().security_context();
  if (absl::Status s =
          CheckUser(sc.has_run_as_user(), "",
                    sc.has_run_as_group() ? &sc.run_as_group() : nullptr);
      !s.ok()) {
    return s;
  }
  return CheckSeccomp(sc.has_seccomp(), sc.seccomp(),
                      DeprecatedProfilePath(sc));
}

absl::Status ValidateContainerConfig(const pb::ContainerConfig& c) {
  if (!c.has_metadata()) {
    return absl::UnknownError("container config must include metadata");
  }
  const pb::LinuxContainerSecurityContext& sc = c.linux().security_context();
  if (absl::Status s =
          CheckUser(sc.has_run_as_user(), sc.run_as_username(),
                    sc.has_run_as_group() ? &sc.run_as_group() : nullptr);
      !s.ok()) {
    return s;
  }
  if (sc.privileged()) return absl::OkStatus();  // no seccomp when privileged
  return CheckSeccomp(sc.has_seccomp(), sc.seccomp(),
                      DeprecatedProfilePath(sc));
}

}  // namespace zun::cri::fake
