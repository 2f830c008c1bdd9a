// File: relist.h
// What a relist (the two list calls of the reconciler) means for each
// capsule: its rows against the newest sandbox and containers the runtime
// lists. Decides which capsules need a closer look (a sync), which creates
// and deletes were interrupted, and which failed creates left a sandbox.
//
// Pure; thread-compatible values, thread-safe functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "capsule/model.h"
#include "cri/pod_listing.h"
#include "cri/types.h"

namespace zun::capsule {

// The filters a relist lists this host's capsules with: ours, on `host`,
// keeping the labels BuildRuntimeView reads (and nothing else).
cri::SandboxFilter RelistSandboxFilter(const std::string& host);
cri::ContainerFilter RelistContainerFilter(const std::string& host);

// The runtime's view of this host's capsules, from one compact listing
// (CriClient::ListPods with the filters above). Hashed: a relist looks up
// every capsule and child of the host. The maps point into `listing`, which
// the view owns: move it, never copy it.
struct RuntimeView {
  cri::PodListing listing;
  // Capsule uuid -> its newest sandbox.
  absl::flat_hash_map<std::string_view, const cri::ListedSandbox*> sandbox;
  // Child uuid -> newest container in its capsule's newest sandbox.
  absl::flat_hash_map<std::string_view, const cri::ListedContainer*> container;
};

// Builds the view from a listing made with the filters above; items
// without our labels are ignored.
RuntimeView BuildRuntimeView(cri::PodListing listing);

enum class RelistAction {
  kNone,           // the rows agree with the runtime
  kSync,           // they disagree: look closer and converge (CapsuleOps)
  kResume,         // a create was interrupted: carry it on
  kDelete,         // a delete was interrupted: carry it on
  kRemoveSandbox,  // a failed create left its sandbox: remove it
};

// What to do with `c` after a relist. `restart_scheduled`: a restart of one
// of its containers is already timed.
RelistAction Triage(const Capsule& c, const RuntimeView& rt,
                    bool restart_scheduled);

}  // namespace zun::capsule
