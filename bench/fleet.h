// File: fleet.h
// Many capsules at once for the benchmarks: rows written as the Zun API
// writes them, creates and deletes cast over one AMQP connection (our
// RpcCaster, so the client is never the bottleneck), and per-capsule
// cast-to-status latencies from the commit times of the rows' writes
// (track_commit_timestamp; else their updated_at).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "capsule/model.h"
#include "tests/support/agent_harness.h"

namespace zun::bench {

struct FleetSpec {
  int capsules = 1;
  int containers = 2;
  std::string image = "busybox";
  std::string pull_policy = "always";  // Zun's default
};

std::vector<capsule::Capsule> MakeCapsules(testing::AgentHarness& h,
                                           const FleetSpec& spec);

// Casts container_create for each capsule; `sent[i]` is when capsule i's
// cast left.
// `per_second` > 0 paces the casts at that rate (a steady arrival rate
// instead of a burst).
absl::Status CastCreates(testing::AgentHarness& h,
                         const std::vector<capsule::Capsule>& capsules,
                         std::vector<absl::Time>* sent, double per_second = 0);
// Marks each capsule deleting and casts container_delete.
absl::Status CastDeletes(testing::AgentHarness& h,
                         const std::vector<capsule::Capsule>& capsules,
                         std::vector<absl::Time>* sent);

// Polls until `count(where) == n` (every `poll`); false at the deadline.
// Only the end is detected this way (latencies come from the rows' commit
// times), so the poll is slow: a count over thousands of rows every few
// milliseconds would take PostgreSQL's CPU from the agent being measured.
bool WaitRows(testing::AgentHarness& h, const std::string& where, int n,
              absl::Duration timeout,
              absl::Duration poll = absl::Milliseconds(250));

// Milliseconds from each cast to its capsule row turning Running.
std::vector<double> RunningLatenciesMs(
    testing::AgentHarness& h, const std::vector<capsule::Capsule>& capsules,
    const std::vector<absl::Time>& sent, absl::Time* last_running);

}  // namespace zun::bench
