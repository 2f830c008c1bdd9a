#include "agent/agent.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capsule/status.h"
#include "common/backoff.h"
#include "common/logging.h"
#include "cri/endpoint.h"

namespace zun::agent {

namespace cs = ::zun::capsule;

OpsOptions OpsOptionsFromConfig(const config::AgentConfig& c) {
  OpsOptions o;
  capsule::MapperOptions& m = o.mapper;
  m.host = c.host;
  m.sandbox_namespace = c.cri.sandbox_namespace;
  m.log_root = c.compute.pod_log_root;
  m.cgroup_root = c.compute.cgroup_root;
  m.default_runtime = c.container_runtime;
  m.runtime_handlers = c.cri.runtime_handlers;
  m.allow_privileged = c.compute.allow_privileged;
  m.seccomp_profile = c.compute.seccomp_profile;
  m.host_path_allowlist = c.compute.host_path_allowlist;
  m.dns.servers = c.compute.dns_servers;
  m.dns.searches = c.compute.dns_searches;
  m.dns.options = c.compute.dns_options;
  m.sysctls = c.compute.sysctls;
  o.network_name = c.compute.network_name;
  o.stop_grace = c.compute.stop_grace_period;
  o.restart_backoff.initial = c.compute.restart_backoff_initial;
  o.restart_backoff.max = c.compute.restart_backoff_max;
  o.restart_backoff.reset_after = c.compute.restart_backoff_reset;
  o.volume_dir = c.volume.volume_dir;
  // ValidateConfig checked that the key derives.
  o.registry_key = ZunFernetKey(c.auth_encryption_key).value_or("");
  // As many concurrent starts as concurrent operations: a burst's creates
  // never wait for one another's container starts.
  o.start_helpers = c.compute.max_concurrent_operations;
  // Local volumes live under volume_dir: always allowed.
  m.host_path_allowlist.push_back(c.volume.volume_dir);
  return o;
}

node::NodeReporterOptions NodeReporterOptionsFromConfig(
    const config::AgentConfig& c) {
  node::NodeReporterOptions o;
  o.host = c.host;
  o.availability_zone = c.default_availability_zone;
  o.report_interval = c.report_interval;
  o.inventory_interval = c.compute.inventory_interval;
  o.configured_runtimes.clear();
  for (const auto& [name, handler] : c.cri.runtime_handlers) {
    o.configured_runtimes.push_back(name);
  }
  o.enable_cpu_pinning = c.compute.enable_cpu_pinning;
  o.reserve_disk_for_image = c.compute.reserve_disk_for_image;
  o.disk_path = c.state_path;
  return o;
}

node::PlacementReporterOptions PlacementReporterOptionsFromConfig(
    const config::AgentConfig& c) {
  node::PlacementReporterOptions o;
  o.cpu_allocation_ratio = c.compute.cpu_allocation_ratio;
  o.ram_allocation_ratio = c.compute.ram_allocation_ratio;
  o.disk_allocation_ratio = c.compute.disk_allocation_ratio;
  o.initial_cpu_allocation_ratio = c.compute.initial_cpu_allocation_ratio;
  o.initial_ram_allocation_ratio = c.compute.initial_ram_allocation_ratio;
  o.initial_disk_allocation_ratio = c.compute.initial_disk_allocation_ratio;
  o.reserved_host_cpus = c.compute.reserved_host_cpus;
  o.reserved_host_memory_mb = c.compute.reserved_host_memory_mb;
  o.reserved_host_disk_mb = c.compute.reserved_host_disk_mb;
  o.host_shared_with_nova = c.compute.host_shared_with_nova;
  o.refresh_interval = c.compute.resource_provider_association_refresh;
  o.lost_create_grace = c.compute.lost_create_grace_period;
  return o;
}

ReconcilerOptions ReconcilerOptionsFromConfig(const config::AgentConfig& c) {
  ReconcilerOptions o;
  o.host = c.host;
  o.interval = c.compute.reconcile_interval;
  o.orphan_grace_period = c.compute.orphan_grace_period;
  return o;
}

Agent::Agent(const config::AgentConfig& config, AgentDeps deps)
    : config_(config), deps_(deps) {
  OpsOptions ops_options = OpsOptionsFromConfig(config_);
  ReconcilerOptions reconciler_options = ReconcilerOptionsFromConfig(config_);
  if (observe::AgentMetrics* m = deps_.metrics) {
    ops_options.on_operation = [m](std::string_view op, std::string_view result,
                                   absl::Duration took) {
      m->OnOperation(op, result, took);
    };
  }
  // After each relist: metrics, and the memory of a finished burst back to
  // the kernel (the reconciler's thread is the only caller). The activity
  // starts at 1: the recovery's read of every row is a burst of its own.
  reconciler_options.on_relist = [this,
                                  m = deps_.metrics](absl::Duration took) {
    if (m != nullptr) m->OnRelist(took);
    idle_memory_.MaybeRelease(1 + executor_->Submitted() +
                                  executor_->Retired() + ops_->HelpersRetired(),
                              executor_->Pending(), deps_.clock.Now());
  };
  if (deps_.placement != nullptr) {
    placement_reporter_ = std::make_unique<node::PlacementReporter>(
        *deps_.placement, deps_.clock,
        PlacementReporterOptionsFromConfig(config_),
        [this](const std::vector<std::string>& consumers) {
          return deps_.store.BriefContainers(consumers);
        },
        [this](const std::string& rp_uuid) {
          node_reporter_->AdoptProvider(rp_uuid);
        },
        [this](const std::string& uuid) {
          executor_->Submit(uuid, [this, uuid] {
            ops_->Create(uuid, db::ActionContext{}, CreateHints{}, [] {});
          });
        });
    ops_options.release_allocation =
        [p = placement_reporter_.get()](const std::string& uuid) {
          p->Release(uuid);
        };
  }
  if (deps_.neutron != nullptr && config_.NeutronPorts()) {
    ports_ = std::make_unique<PortBinder>(
        *deps_.neutron, PortOptions{config_.host, config_.ovs_bridge});
  }
  ops_ = std::make_unique<CapsuleOps>(deps_.store, deps_.cri, deps_.clock,
                                      registry_, std::move(ops_options),
                                      ports_.get());
  executor_ = std::make_unique<KeyedExecutor>(
      config_.compute.max_concurrent_operations, kIdleThreadTimeout);
  endpoint_ = std::make_unique<RpcEndpoint>(*ops_, *executor_);
  reconciler_ = std::make_unique<Reconciler>(
      *ops_, *executor_, registry_, deps_.cri, deps_.store, deps_.clock,
      std::move(reconciler_options));
  node_reporter_ = std::make_unique<node::NodeReporter>(
      deps_.store, deps_.cri,
      [this](const std::function<void(const capsule::Capsule&)>& fn) {
        registry_.ForEach(fn);
      },
      deps_.clock, NodeReporterOptionsFromConfig(config_),
      placement_reporter_.get());
}

Agent::~Agent() {
  Shutdown();
  if (deps_.metrics != nullptr) deps_.metrics->SetSources({});
}

observe::MetricSources Agent::MetricSourcesOf() {
  observe::MetricSources s;
  s.bus = [this] { return deps_.bus.Counters(); };
  s.rpc_messages = [this] { return endpoint_->Counts(); };
  s.reconciler = [this] { return reconciler_->Stats(); };
  s.operations_in_flight = [this] { return executor_->Pending(); };
  if (node::PlacementReporter* p = placement_reporter_.get()) {
    s.placement = [p] { return p->counters(); };
    s.placement_health = [p] { return p->health(); };
  }
  s.capsules_by_status = [this] {
    std::map<std::string, int64_t> by_status;
    for (std::string_view st :
         {cs::kStatusCreating, cs::kStatusCreated, cs::kStatusRunning,
          cs::kStatusRestarting, cs::kStatusStopped, cs::kStatusError,
          cs::kStatusDeleting}) {
      by_status[std::string(st)] = 0;
    }
    registry_.ForEach([&](const capsule::Capsule& c) {
      ++by_status[c.record.status.value_or("unknown")];
    });
    return by_status;
  };
  return s;
}

absl::Status Agent::Start(Waker& stop) {
  // The runtime may come up at any time (or be busy when many agents start
  // at once): look again often, and say so now and then.
  Backoff backoff(BackoffPolicy{absl::Milliseconds(100), absl::Seconds(1)});
  bool socket_trusted = false;
  absl::Time next_warning = absl::InfinitePast();
  for (;;) {
    // A socket someone else could have planted would get every capsule's
    // image credentials and tenant data: refuse it, whenever it appears.
    if (!socket_trusted) {
      absl::Status s = cri::CheckCriSocket(config_.cri.runtime_endpoint);
      if (absl::IsFailedPrecondition(s)) {
        return absl::FailedPreconditionError(
            absl::StrCat("[cri] runtime_endpoint: ", s.message()));
      }
      socket_trusted = s.ok();
    }
    absl::StatusOr<cri::VersionInfo> v = deps_.cri.Version();
    if (v.ok()) {
      if (!absl::StartsWith(v->runtime_api_version, "v1") ||
          absl::StartsWith(v->runtime_api_version, "v1alpha")) {
        return absl::FailedPreconditionError(
            "the CRI runtime at " + config_.cri.runtime_endpoint + " serves '" +
            v->runtime_api_version + "', zun-agent needs runtime.v1");
      }
      ZUN_LOG(kAgent, info, "CRI runtime {} {} (API {}) at {}", v->runtime_name,
              v->runtime_version, v->runtime_api_version,
              config_.cri.runtime_endpoint);
      break;
    }
    if (v.status().code() == absl::StatusCode::kUnimplemented) {
      return absl::FailedPreconditionError("the runtime at " +
                                           config_.cri.runtime_endpoint +
                                           " does not serve CRI runtime.v1");
    }
    const absl::Duration delay = backoff.Next();
    if (deps_.clock.Now() >= next_warning) {
      ZUN_LOG(kAgent, warn, "CRI runtime not reachable ({}); waiting for it",
              v.status().message());
      next_warning = deps_.clock.Now() + absl::Seconds(30);
    }
    if (deps_.clock.WaitFor(delay, stop)) {
      return absl::CancelledError("stopped before the runtime came up");
    }
  }
  if (absl::Status s = reconciler_->Recover(stop); !s.ok()) return s;
  if (placement_reporter_) placement_reporter_->Start();
  node_reporter_->Start();
  reconciler_->Start();
  if (absl::Status s = deps_.bus.Start(*endpoint_); !s.ok()) return s;
  started_ = true;
  ZUN_LOG(kAgent, info, "zun-agent serving topic '{}' as host '{}'",
          config_.compute.topic, config_.host);
  return absl::OkStatus();
}

void Agent::Shutdown() {
  if (!started_) {
    node_reporter_->Stop();
    if (placement_reporter_) placement_reporter_->Stop();
    reconciler_->Stop();
    ops_->Stop();
    executor_->Shutdown(absl::ZeroDuration());
    return;
  }
  started_ = false;
  ZUN_LOG(kAgent, info, "shutting down: finishing in-flight operations");
  endpoint_->BeginShutdown();
  reconciler_->Stop();
  node_reporter_->Stop();
  const bool drained =
      executor_->Shutdown(config_.compute.shutdown_timeout, [this] {
        ZUN_LOG(kAgent, warn,
                "shutdown timeout: abandoning queued operations and "
                "interrupting running ones (their requests are redelivered, "
                "the database drives recovery)");
        ops_->Stop();
      });
  (void)drained;
  ops_->Stop();
  // Releases still queued are found again by the next start's heal.
  if (placement_reporter_) placement_reporter_->Stop();
  deps_.bus.Stop();
  ZUN_LOG(kAgent, info, "stopped");
}

}  // namespace zun::agent
