// File: metrics.h
// The agent's Prometheus metrics (prometheus-cpp). Two kinds:
//  - pushed: operations, CRI calls and relists report to the On* methods as
//    they end (histograms and counters kept by prometheus-cpp);
//  - pulled: counters the components keep anyway (RPC messages, bus, pool,
//    reconciler) and the capsules by status are read from MetricSources at
//    scrape time, so the hot paths carry no metrics code.
// Metric names start with "zun_agent_"; labels never carry credentials,
// capsule data or URLs. See docs/operations.md for the list.
//
// Thread-safe: On* and Render may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "db/pg_options.h"
#include "node/placement_reporter.h"
#include "observe/reconciler_stats.h"
#include "rpc/rpc_bus.h"

namespace prometheus {
class Registry;
class Histogram;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace zun::observe {

// Read at scrape time; any may be empty. Each must be thread-safe.
struct MetricSources {
  std::function<rpc::RpcCounters()> bus;
  // RPC messages: "method/outcome" -> count (RpcEndpoint::Counts).
  std::function<std::map<std::string, uint64_t>()> rpc_messages;
  std::function<ReconcilerStats()> reconciler;
  std::function<db::PoolStats()> db;
  // Capsules of this host by their status column.
  std::function<std::map<std::string, int64_t>()> capsules_by_status;
  // Capsule operations queued or running.
  std::function<size_t()> operations_in_flight;
  // Placement reporting (only when the node reports to Placement).
  std::function<node::PlacementReporter::Counters()> placement;
  std::function<node::PlacementReporter::Health()> placement_health;
  // Successful Keystone authentications (renewals included).
  std::function<int64_t()> keystone_authentications;
};

class AgentMetrics {
 public:
  AgentMetrics();
  ~AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  // A capsule operation ended (see OpsOptions::on_operation).
  void OnOperation(std::string_view op, std::string_view result,
                   absl::Duration took);
  // A CRI RPC attempt ended (see GrpcCriOptions::on_call).
  void OnCriCall(std::string_view method, absl::Duration latency,
                 absl::StatusCode code);
  // A reconciler relist ended.
  void OnRelist(absl::Duration took);

  // Replaces the pulled sources.
  void SetSources(MetricSources sources);

  // Every metric in the Prometheus text exposition format (0.0.4).
  std::string Render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* operations_;
  prometheus::Family<prometheus::Histogram>* operation_seconds_;
  prometheus::Family<prometheus::Histogram>* cri_seconds_;
  prometheus::Family<prometheus::Counter>* cri_errors_;
  prometheus::Histogram* relist_seconds_;

  mutable absl::Mutex mu_;
  MetricSources sources_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::observe
