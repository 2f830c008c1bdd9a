// File: reconciler_stats.h
// What the agent's reconciler counts, as /metrics reports it (the
// reconciler fills it; observe/ reads it). A value type.
#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace zun::observe {

struct ReconcilerStats {
  uint64_t relists = 0;
  uint64_t relist_errors = 0;
  uint64_t syncs = 0;  // Sync tasks submitted
  uint64_t drift = 0;  // capsules found out of line with the runtime
  uint64_t orphans_removed = 0;
  uint64_t resumed = 0;  // interrupted creates/deletes dispatched
  absl::Duration last_relist = absl::ZeroDuration();
};

}  // namespace zun::observe
