// File: cri_conformance.h
// One suite of CRI behaviours zun-agent relies on, run against both the fake
// runtime (integration) and a real containerd (e2e), so that tests on the
// fake predict containerd: sandbox and container lifecycle, exit codes and
// reasons, NOT_FOUND idempotency, image status and pull, list filters by
// label and state, the reserved-name quirk, exec, the configs containerd
// refuses, log files and their reopening.
#pragma once

#include <string>

#include "cri/cri_client.h"

namespace zun::testing {

struct CriTarget {
  cri::CriClient* cri = nullptr;
  std::string run_image = "localhost/busybox:latest";  // present already
  std::string pull_image;            // pullable, not present yet
  std::string pull_image_other_tag;  // another tag of the same image
  std::string missing_pull_image;    // its registry does not have it
  std::string log_root;              // existing directory for pod logs
  std::string cgroup_root;           // cgroup_parent prefix ("" = runtime's)
};

// Runs every behaviour; uses Catch2 assertions (call inside a TEST_CASE).
void RunCriConformance(const CriTarget& target);

}  // namespace zun::testing
