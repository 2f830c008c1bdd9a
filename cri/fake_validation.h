// File: fake_validation.h
// The checks containerd 1.6 makes on a sandbox or container config before
// it creates anything, made by fake-cri on the wire messages (some fields,
// like the deprecated seccomp_profile_path, never reach the domain types).
// Errors carry containerd's code (Unknown, as its plain errors map to) and
// the substance of its message. Stateless functions; safe on any thread.
//
// What containerd checks, and where fake-cri does it:
//   - metadata present (sandbox and container)             here
//   - run_as_group only with run_as_user or run_as_username here
//   - seccomp_profile_path: "", unconfined, runtime/default,
//     docker/default or localhost/<path>                    here
//   - a Localhost seccomp profile names a readable file     here
//   - a privileged container only in a privileged sandbox  FakeRuntime
//   - the image resolves locally                            FakeRuntime
//   - the sandbox exists and is ready                       FakeRuntime
#pragma once

#include "absl/status/status.h"
#include "runtime/v1/api.pb.h"

namespace zun::cri::fake {

absl::Status ValidateSandboxConfig(const ::runtime::v1::PodSandboxConfig& c);
absl::Status ValidateContainerConfig(const ::runtime::v1::ContainerConfig& c);

}  // namespace zun::cri::fake
