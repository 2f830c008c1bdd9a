// File: relist.h
// What a relist (the two list calls of the reconciler) means for each
// capsule: its rows against the newest sandbox and containers the runtime
// lists. Decides which capsules need a closer look (a sync), which creates
// and deletes were interrupted, and which failed creates left a sandbox.
//
// Pure; thread-compatible values, thread-safe functions.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "capsule/model.h"
#include "cri/types.h"

namespace zun::capsule {

// The runtime's view of this host's capsules, from the two list calls.
// Hashed: a relist looks up every capsule and child of the host.
struct RuntimeView {
  absl::flat_hash_map<std::string, cri::SandboxInfo>
      sandbox;  // capsule uuid -> newest
  // Child uuid -> newest container in its capsule's newest sandbox.
  absl::flat_hash_map<std::string, cri::ContainerInfo> container;
};

// Builds the view from the lists (their entries are moved); entries without
// our labels are ignored.
RuntimeView BuildRuntimeView(std::vector<cri::SandboxInfo> sandboxes,
                             std::vector<cri::ContainerInfo> containers);

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
