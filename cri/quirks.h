// File: quirks.h
// containerd's CRI quirks, mapped to clean results in one place so every
// CriClient implementation behaves the same (see
// docs/cri-contract.md and ../shared/spec/containerd-cri-notes.md §6).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cri/cri_client.h"

namespace zun::cri {

// Stop/Remove of something already gone is success (they are idempotent).
inline absl::Status NotFoundIsOk(absl::Status s) {
  if (s.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return s;
}

// True for containerd's "failed to reserve sandbox name" (UNKNOWN), which a
// RunPodSandbox retry gets when an earlier attempt with the same metadata
// timed out on our side but still exists (or is still being created).
bool IsSandboxNameReserved(const absl::Status& s);

// Resolves a reserved sandbox name for `config`: adopts a READY sandbox with
// the same metadata (returns its id), removes a NOTREADY one and returns
// ABORTED (retry with a new attempt), or returns UNAVAILABLE when none is
// visible yet (creation still in progress). Never loops.
absl::StatusOr<std::string> RecoverReservedSandbox(
    CriClient& client, const PodSandboxConfig& config,
    const absl::Status& original);

}  // namespace zun::cri
