#include "observe/metrics.h"

#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace zun::observe {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

const prometheus::Histogram::BucketBoundaries& CriBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5,    1,     2.5,    5,     10,   30,    60,   120};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& OperationBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
      1,     2.5,   5,    10,    30,   60,  120,  300};
  return *b;
}

// Builders of pulled families.
MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void AddValue(MetricFamily& f, double v,
              std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f.metric.push_back(std::move(m));
}

std::string_view CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "ok";
    case absl::StatusCode::kCancelled:
      return "cancelled";
    case absl::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case absl::StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kAlreadyExists:
      return "already_exists";
    case absl::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case absl::StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    case absl::StatusCode::kUnimplemented:
      return "unimplemented";
    default:
      return "other";
  }
}

}  // namespace

AgentMetrics::AgentMetrics()
    : registry_(std::make_shared<prometheus::Registry>()) {
  operations_ = &prometheus::BuildCounter()
                     .Name("zun_agent_operations_total")
                     .Help("Capsule operations by kind and result")
                     .Register(*registry_);
  operation_seconds_ = &prometheus::BuildHistogram()
                            .Name("zun_agent_operation_duration_seconds")
                            .Help("Duration of capsule operations by kind")
                            .Register(*registry_);
  cri_seconds_ = &prometheus::BuildHistogram()
                      .Name("zun_agent_cri_request_duration_seconds")
                      .Help("Latency of CRI RPC attempts by method")
                      .Register(*registry_);
  cri_errors_ = &prometheus::BuildCounter()
                     .Name("zun_agent_cri_errors_total")
                     .Help("CRI RPC attempts that failed, by method and code")
                     .Register(*registry_);
  relist_seconds_ = &prometheus::BuildHistogram()
                         .Name("zun_agent_reconcile_duration_seconds")
                         .Help("Duration of one reconciler relist")
                         .Register(*registry_)
                         .Add({}, OperationBuckets());
}

AgentMetrics::~AgentMetrics() = default;

void AgentMetrics::OnOperation(std::string_view op, std::string_view result,
                               absl::Duration took) {
  const std::string o(op);
  operations_->Add({{"operation", o}, {"result", std::string(result)}})
      .Increment();
  // Skipped and requeued operations did no work: keep them out of the
  // latency figures.
  if (result == "ok" || result == "error" || result == "cancelled") {
    operation_seconds_->Add({{"operation", o}}, OperationBuckets())
        .Observe(absl::ToDoubleSeconds(took));
  }
}

void AgentMetrics::OnCriCall(std::string_view method, absl::Duration latency,
                             absl::StatusCode code) {
  const std::string m(method);
  cri_seconds_->Add({{"method", m}}, CriBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
  if (code != absl::StatusCode::kOk) {
    cri_errors_->Add({{"method", m}, {"code", std::string(CodeName(code))}})
        .Increment();
  }
}

void AgentMetrics::OnRelist(absl::Duration took) {
  relist_seconds_->Observe(absl::ToDoubleSeconds(took));
}

void AgentMetrics::SetSources(MetricSources sources) {
  absl::MutexLock l(&mu_);
  sources_ = std::move(sources);
}

std::string AgentMetrics::Render() const {
  std::vector<MetricFamily> families = registry_->Collect();
  MetricSources s;
  {
    absl::MutexLock l(&mu_);
    s = sources_;
  }
  if (s.rpc_messages) {
    MetricFamily f =
        Family("zun_agent_rpc_messages_total",
               "RPC messages by method and outcome", MetricType::Counter);
    for (const auto& [key, n] : s.rpc_messages()) {
      std::pair<std::string, std::string> mo =
          absl::StrSplit(key, absl::MaxSplits('/', 1));
      AddValue(f, static_cast<double>(n),
               {{"method", mo.first}, {"outcome", mo.second}});
    }
    families.push_back(std::move(f));
  }
  if (s.bus) {
    const rpc::RpcCounters c = s.bus();
    MetricFamily f = Family("zun_agent_amqp_events_total",
                            "Message bus events by kind", MetricType::Counter);
    const std::pair<const char*, uint64_t> events[] = {
        {"received", c.received},
        {"malformed", c.malformed},
        {"duplicate", c.duplicates},
        {"reply", c.replies},
        {"reply_dropped", c.replies_dropped},
        {"heartbeat", c.heartbeats}};
    for (const auto& [kind, n] : events) {
      AddValue(f, static_cast<double>(n), {{"event", kind}});
    }
    families.push_back(std::move(f));
    MetricFamily r =
        Family("zun_agent_amqp_reconnects_total",
               "Reconnections to the message bus", MetricType::Counter);
    AddValue(r, static_cast<double>(c.reconnects));
    families.push_back(std::move(r));
    MetricFamily e =
        Family("zun_agent_amqp_errors_total", "Message bus connection errors",
               MetricType::Counter);
    AddValue(e, static_cast<double>(c.connection_errors));
    families.push_back(std::move(e));
  }
  if (s.db) {
    const db::PoolStats p = s.db();
    MetricFamily st = Family("zun_agent_db_statements_total",
                             "Database transactions run", MetricType::Counter);
    AddValue(st, static_cast<double>(p.statements));
    families.push_back(std::move(st));
    MetricFamily e =
        Family("zun_agent_db_errors_total",
               "Database transactions that failed, and failed connects",
               MetricType::Counter);
    AddValue(e, static_cast<double>(p.errors), {{"kind", "statement"}});
    AddValue(e, static_cast<double>(p.connect_errors), {{"kind", "connect"}});
    families.push_back(std::move(e));
    MetricFamily r =
        Family("zun_agent_db_reconnects_total",
               "Database connections dropped as broken", MetricType::Counter);
    AddValue(r, static_cast<double>(p.broken));
    families.push_back(std::move(r));
  }
  if (s.reconciler) {
    const ReconcilerStats r = s.reconciler();
    MetricFamily rl = Family("zun_agent_reconcile_relists_total",
                             "Reconciler relists, and those that failed",
                             MetricType::Counter);
    AddValue(rl, static_cast<double>(r.relists), {{"result", "ok"}});
    AddValue(rl, static_cast<double>(r.relist_errors), {{"result", "error"}});
    families.push_back(std::move(rl));
    MetricFamily d = Family("zun_agent_reconcile_drift_total",
                            "Capsules found out of line with the runtime",
                            MetricType::Counter);
    AddValue(d, static_cast<double>(r.drift));
    families.push_back(std::move(d));
    MetricFamily o =
        Family("zun_agent_reconcile_orphans_removed_total",
               "Sandboxes removed that belonged to no capsule of this host",
               MetricType::Counter);
    AddValue(o, static_cast<double>(r.orphans_removed));
    families.push_back(std::move(o));
  }
  if (s.capsules_by_status) {
    MetricFamily f =
        Family("zun_agent_capsules", "Capsules of this host by status",
               MetricType::Gauge);
    for (const auto& [status, n] : s.capsules_by_status()) {
      AddValue(f, static_cast<double>(n), {{"status", status}});
    }
    families.push_back(std::move(f));
  }
  if (s.operations_in_flight) {
    MetricFamily f =
        Family("zun_agent_operations_in_flight",
               "Capsule operations queued or running", MetricType::Gauge);
    AddValue(f, static_cast<double>(s.operations_in_flight()));
    families.push_back(std::move(f));
  }
  if (s.placement) {
    const node::PlacementReporter::Counters c = s.placement();
    MetricFamily p =
        Family("zun_agent_placement_passes_total",
               "Placement reporting passes by result", MetricType::Counter);
    AddValue(p, static_cast<double>(c.passes_ok), {{"result", "ok"}});
    AddValue(p, static_cast<double>(c.passes_failed), {{"result", "error"}});
    families.push_back(std::move(p));
    MetricFamily u =
        Family("zun_agent_placement_updates_total",
               "Inventory and trait writes to Placement", MetricType::Counter);
    AddValue(u, static_cast<double>(c.inventory_updates),
             {{"kind", "inventory"}});
    AddValue(u, static_cast<double>(c.trait_updates), {{"kind", "traits"}});
    families.push_back(std::move(u));
    MetricFamily k =
        Family("zun_agent_placement_conflicts_total",
               "Placement generation conflicts retried", MetricType::Counter);
    AddValue(k, static_cast<double>(c.conflicts));
    families.push_back(std::move(k));
    MetricFamily a =
        Family("zun_agent_placement_allocations_released_total",
               "Capsule allocations released: on delete or failure, or found "
               "leaked by the heal",
               MetricType::Counter);
    AddValue(a, static_cast<double>(c.allocations_released),
             {{"how", "release"}});
    AddValue(a, static_cast<double>(c.allocations_healed), {{"how", "heal"}});
    families.push_back(std::move(a));
  }
  if (s.keystone_authentications) {
    MetricFamily k = Family("zun_agent_keystone_authentications_total",
                            "Keystone tokens obtained (first and renewals)",
                            MetricType::Counter);
    AddValue(k, static_cast<double>(s.keystone_authentications()));
    families.push_back(std::move(k));
  }
  if (s.placement_health) {
    const node::PlacementReporter::Health h = s.placement_health();
    MetricFamily up =
        Family("zun_agent_placement_up",
               "1 when the last Placement pass succeeded", MetricType::Gauge);
    AddValue(up, h.ok ? 1.0 : 0.0);
    families.push_back(std::move(up));
    MetricFamily q =
        Family("zun_agent_placement_pending_releases",
               "Allocation releases waiting for Placement", MetricType::Gauge);
    AddValue(q, static_cast<double>(h.pending_releases));
    families.push_back(std::move(q));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace zun::observe
