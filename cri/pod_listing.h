// File: pod_listing.h
// A compact listing of a node's pod sandboxes and containers, for the
// periodic relist (CriClient::ListPods).
//
// Why: a relist of 1,000 capsules lists 1,000 sandboxes and 2,000
// containers, and reads of each only its ids, state, attempt, creation time
// and one or two labels. As SandboxInfo / ContainerInfo every id, label key
// and value is a heap string and every label a map node: about 23,000
// allocations per relist, whose frees glibc then coalesces on the next
// large allocation of any thread. Here every string is a view into bytes
// the listing owns (the runtime's answers themselves, for GrpcCriClient), and
// the kept labels are values in the order of the keys asked for.
//
// A PodListing is a value: moving it keeps every view valid (the bytes are
// held through unique_ptr); copying is disabled. Not thread-safe to mutate;
// const use from many threads is fine.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "cri/types.h"

namespace zun::cri {

// How many labels a listed item keeps: the first kListedLabels keys of the
// filter's keep.label_keys (ListPods rejects more).
inline constexpr size_t kListedLabels = 2;

struct ListedSandbox {
  std::string_view id;
  SandboxState state = SandboxState::kReady;  // the wire's default (0)
  uint32_t attempt = 0;
  int64_t created_at = 0;
  // labels[i]: the value of keep.label_keys[i], "" when absent.
  std::array<std::string_view, kListedLabels> labels;
};

struct ListedContainer {
  std::string_view id;
  std::string_view sandbox_id;
  ContainerState state = ContainerState::kCreated;  // the wire's default (0)
  uint32_t attempt = 0;
  int64_t created_at = 0;
  std::array<std::string_view, kListedLabels> labels;  // as ListedSandbox's
};

struct PodListing {
  PodListing() = default;
  PodListing(PodListing&&) = default;
  PodListing& operator=(PodListing&&) = default;
  PodListing(const PodListing&) = delete;
  PodListing& operator=(const PodListing&) = delete;

  std::vector<ListedSandbox> sandboxes;
  std::vector<ListedContainer> containers;
  // What the views above point into (owned; never resized once viewed).
  std::vector<std::unique_ptr<const std::string>> bytes;
};

// What every CriClient::ListPods checks first: INVALID_ARGUMENT when a
// filter asks to keep more than kListedLabels labels, else OK.
absl::Status CheckListPodsArgs(const SandboxFilter& sandboxes,
                               const ContainerFilter& containers);

// The listing of items already held as SandboxInfo / ContainerInfo (the
// in-process fake, tests): copies every string it keeps into one buffer.
// `sandbox_keys` / `container_keys`: the labels to keep (at most
// kListedLabels each; extra keys are ignored).
PodListing MakePodListing(const std::vector<SandboxInfo>& sandboxes,
                          const std::vector<std::string>& sandbox_keys,
                          const std::vector<ContainerInfo>& containers,
                          const std::vector<std::string>& container_keys);

}  // namespace zun::cri
