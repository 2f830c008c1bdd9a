// File: scenarios.h
// The benchmark scenarios of zun-bench (issue: benchmarks). Each runs the
// agent as a process against real RabbitMQ and PostgreSQL (default
// durability) and fake-cri or containerd, measures, and returns a JSON
// object: {"scenario", "figures": {...}, "baseline": {"what", "value"},
// "ratio", "target", "met"}. Benchmarks report; they never fail on a
// figure.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "capsule/mapper.h"
#include "nlohmann/json.hpp"
#include "tests/support/agent_harness.h"

namespace zun::bench {

using Json = nlohmann::ordered_json;

struct BenchConfig {
  int overhead_capsules = 2000;
  int concurrency_capsules = 200;
  int containerd_capsules = 20;
  // Interleaved rounds after one warm-up. One round's agent-to-direct ratio
  // ranges over 0.6-1.5 here (standard deviation about 0.15): the median of
  // 40 has a standard error of about 0.03, that of 20 about 0.04.
  int containerd_pairs = 40;
  int steady_capsules = 1000;
  double steady_seconds = 20;
  // Scenario 6: fleet sizes, capsules per node, the steady window, and the
  // service_down_time the killed agents' rows are judged by (Zun's default
  // is 180 s; the agents report every 10 s).
  std::vector<int> fleet_sizes = {10, 25, 50};
  int fleet_capsules_per_node = 100;
  double fleet_window_seconds = 60;  // six heartbeats
  double fleet_settle_seconds = 30;  // after the last capsule runs
  absl::Duration fleet_service_down_time = absl::Seconds(30);
  std::string cri_endpoint;  // the bench containerd ("" skips scenario 3)
  std::string cgroup_root;
};

Json AgentOverhead(const BenchConfig& c);           // 1
Json SlowRuntimeConcurrency(const BenchConfig& c);  // 2
Json RealContainerd(const BenchConfig& c);          // 3
// Scenario 3's interleaved rounds (containerd_pairs.cc): minimal direct
// calls, direct calls with the agent's configs (with and without seccomp),
// the agent `h` (its /metrics on `metrics_port`) timed to the commit and
// as a 2 ms poller sees it, and the agent `unconfined` (seccomp_profile =
// unconfined), `rounds` times after one warm-up round. Fails if any call
// fails.
absl::StatusOr<Json> InterleavedPairs(testing::AgentHarness& h,
                                      testing::AgentHarness& unconfined,
                                      const capsule::MapperOptions& m,
                                      int rounds, int metrics_port);
// 4 and 5 share their 1,000 capsules.
Json SteadyStateAndRecovery(const BenchConfig& c, Json* recovery);
Json Fleet(const BenchConfig& c);  // 6

}  // namespace zun::bench
