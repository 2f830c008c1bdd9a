// zun-agent: the Zun compute agent for capsules over CRI.
//
//   zun-agent --config-file FILE              run the agent
//   zun-agent --config-file FILE db-sync      create/upgrade the schema
//   zun-agent --config-file FILE --check-config
//   zun-agent --version
//
// main() is the only code no test links: it builds the real implementations
// of every seam and hands them to the Agent.
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent.h"
#include "common/cli_args.h"
#include "common/logging.h"
#include "common/thread_util.h"
#include "config/config.h"
#include "config/openstack_clients.h"
#include "cri/grpc_cri_client.h"
#include "db/pg_capsule_store.h"
#include "db/pg_options.h"
#include "db/schema.h"
#include "observe/health.h"
#include "observe/metrics.h"
#include "observe/status_server.h"
#include "rpc/amqp_rpc_server.h"

#ifndef ZUN_AGENT_VERSION
#define ZUN_AGENT_VERSION "0.0.0"
#endif

namespace {

using zun::config::AgentConfig;

int Fail(const std::string& what) {
  std::cerr << "zun-agent: " << what << "\n";
  return 1;
}

absl::StatusOr<zun::rpc::AmqpRpcOptions> RpcOptionsFrom(const AgentConfig& c) {
  absl::StatusOr<zun::rpc::TransportUrl> url =
      zun::rpc::ParseTransportUrl(c.transport_url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("[DEFAULT] transport_url: ", url.status().message()));
  }
  zun::rpc::AmqpRpcOptions o;
  o.url = *url;
  o.tls = zun::config::AmqpTlsFrom(c);
  o.control_exchange = c.control_exchange;
  o.topic = c.compute.topic;
  o.server = c.host;
  o.heartbeat_timeout_threshold = c.rabbit.heartbeat_timeout_threshold;
  o.prefetch_count = static_cast<uint16_t>(c.rabbit.rabbit_qos_prefetch_count);
  o.durable_queues = c.rabbit.amqp_durable_queues;
  o.auto_delete = c.rabbit.amqp_auto_delete;
  o.ha_queues = c.rabbit.rabbit_ha_queues;
  o.quorum_queues = c.rabbit.rabbit_quorum_queue;
  o.transient_queues_ttl = c.rabbit.rabbit_transient_queues_ttl;
  o.reconnect.initial = c.rabbit.rabbit_retry_interval;
  o.reconnect.max = c.rabbit.rabbit_interval_max;
  o.reply_retry_timeout = c.rabbit.kombu_missing_consumer_retry_timeout;
  o.limits.max_body_bytes = static_cast<size_t>(c.rabbit.max_message_bytes);
  return o;
}

zun::cri::GrpcCriOptions CriOptionsFrom(const AgentConfig& c,
                                        zun::observe::AgentMetrics& metrics) {
  zun::cri::GrpcCriOptions o;
  o.on_call = [&metrics](std::string_view method, absl::Duration latency,
                         absl::StatusCode code) {
    metrics.OnCriCall(method, latency, code);
  };
  o.runtime_endpoint = c.cri.runtime_endpoint;
  o.image_endpoint = c.cri.image_endpoint;
  o.request_timeout = c.cri.request_timeout;
  o.image_pull_timeout = c.cri.image_pull_timeout;
  o.sandbox_create_timeout = c.cri.sandbox_create_timeout;
  return o;
}

void InitLogging(const AgentConfig& c) {
  zun::log::Options opts;
  opts.level = c.debug ? spdlog::level::debug : spdlog::level::info;
  opts.file = c.log_file;
  zun::log::Init(opts);
  for (const auto& [component, level] : c.log_levels) {
    zun::log::SetLevel(component, spdlog::level::from_str(level));
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<zun::CliArgs> args = zun::CliArgs::Parse(
      argc, argv, {"config-file"}, {"version", "check-config", "help"});
  if (!args.ok()) return Fail(std::string(args.status().message()));
  if (args->Has("version")) {
    std::cout << "zun-agent " << ZUN_AGENT_VERSION << "\n";
    return 0;
  }
  if (args->Has("help") || !args->Has("config-file")) {
    std::cerr << "usage: zun-agent --config-file FILE [--check-config] "
                 "[db-sync]\n       zun-agent --version\n";
    return args->Has("help") ? 0 : 2;
  }
  const std::string command =
      args->positional().empty() ? "" : args->positional().front();
  if (!command.empty() && command != "db-sync") {
    return Fail("unknown command '" + command + "' (expected db-sync)");
  }
  absl::StatusOr<AgentConfig> config =
      zun::config::LoadConfig(args->Get("config-file"));
  if (!config.ok()) return Fail(std::string(config.status().message()));
  absl::StatusOr<zun::rpc::AmqpRpcOptions> rpc_options =
      RpcOptionsFrom(*config);
  if (!rpc_options.ok())
    return Fail(std::string(rpc_options.status().message()));
  if (absl::Status s =
          zun::cri::ValidateCriEndpoint(config->cri.runtime_endpoint);
      !s.ok()) {
    return Fail("[cri] runtime_endpoint: " + std::string(s.message()));
  }
  if (args->Has("check-config")) {
    std::cout << zun::config::DescribeConfig(*config);
    return 0;
  }
  InitLogging(*config);
  if (command.empty()) {
    // Once per start: what is in force, and what the file sets in vain.
    ZUN_LOG(kMain, info, "configuration in force:\n{}",
            zun::config::DescribeConfig(*config));
  }

  if (command == "db-sync") {
    absl::StatusOr<int> v = zun::db::SyncSchema(
        zun::config::PgOptionsFrom(*config), ZUN_AGENT_VERSION);
    if (!v.ok()) return Fail("db-sync: " + std::string(v.status().message()));
    std::cout << "schema version " << *v << "\n";
    return 0;
  }
  // The config holds the bus and database passwords.
  if (struct stat st{}; ::stat(args->Get("config-file").c_str(), &st) == 0 &&
                        (st.st_mode & 0007) != 0) {
    ZUN_LOG(kMain, warn,
            "{} can be read by every user and holds credentials: chmod 0640",
            args->Get("config-file"));
  }
  // A socket someone else could have planted is refused at once; a missing
  // one is waited for (and checked when it appears: Agent::Start).
  if (absl::Status s = zun::cri::CheckCriSocket(config->cri.runtime_endpoint);
      absl::IsFailedPrecondition(s)) {
    return Fail("[cri] runtime_endpoint: " + std::string(s.message()));
  }

  // Stop signals are handled by sigwait() below: block them before any
  // thread starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Abseil's mutex deadlock detection records every lock acquisition in a
  // global graph: a debugging aid that costs a lot under load. Tests keep
  // it; the agent turns it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Bursts run up to max_concurrent_operations threads; glibc would give
  // many of them their own malloc arena, and keep the memory after they
  // retire. A few shared arenas keep the resident set small.
  mallopt(M_ARENA_MAX, 2);

  zun::Clock& clock = zun::RealClock::Default();
  zun::observe::AgentMetrics metrics;
  absl::StatusOr<std::unique_ptr<zun::cri::GrpcCriClient>> cri =
      zun::cri::GrpcCriClient::Create(CriOptionsFrom(*config, metrics), clock);
  if (!cri.ok()) return Fail(std::string(cri.status().message()));
  zun::db::PgCapsuleStore store(zun::config::PgOptionsFrom(*config));
  // An old schema would fail every capsule load: refuse to start. An
  // unreachable database is not fatal (recovery waits for it).
  if (absl::StatusOr<int> v =
          zun::db::SchemaVersion(zun::config::PgOptionsFrom(*config));
      v.ok() && *v < zun::db::LatestSchemaVersion()) {
    return Fail(absl::StrCat("the database schema is at version ", *v,
                             ", this agent needs ",
                             zun::db::LatestSchemaVersion(),
                             ": run zun-agent "
                             "--config-file FILE db-sync"));
  }
  zun::rpc::AmqpRpcServer bus(*rpc_options, clock);
  std::unique_ptr<zun::config::OpenStackClients> openstack =
      zun::config::MakeOpenStackClients(*config, clock);
  if (!openstack) {
    ZUN_LOG(kMain, warn,
            "no [keystone_auth] credentials: this node does not report to "
            "Placement, so Zun's scheduler cannot place capsules here");
  }
  zun::agent::Agent agent(
      *config,
      zun::agent::AgentDeps{store, **cri, bus, clock, &metrics,
                            openstack ? openstack->placement.get() : nullptr,
                            openstack ? openstack->neutron.get() : nullptr});
  zun::observe::MetricSources sources = agent.MetricSourcesOf();
  sources.db = [&store] { return store.pool_stats(); };
  if (openstack) {
    sources.keystone_authentications = [s = openstack->session.get()] {
      return s->authentications();
    };
  }
  metrics.SetSources(std::move(sources));

  // /metrics and /healthz, up before the agent starts so an operator can
  // see what it waits for.
  std::unique_ptr<zun::observe::HealthMonitor> health;
  std::unique_ptr<zun::observe::StatusServer> status_server;
  if (!config->metrics_listen.empty()) {
    zun::cri::CriClient& runtime = **cri;
    std::vector<zun::observe::HealthProbe> probes = {
        {"bus",
         [&bus] {
           return bus.Connected() ? absl::OkStatus()
                                  : absl::UnavailableError(
                                        "not connected to the message bus");
         }},
        // No SELECT 1 every 2 s: the heartbeat's writes prove it.
        {"database",
         [&store,
          fresh = std::max(absl::Seconds(15), 3 * config->report_interval)] {
           return store.Health(fresh);
         }},
        {"runtime",
         [&runtime] { return zun::observe::RuntimeHealth(runtime); }}};
    if (zun::node::PlacementReporter* p = agent.placement_reporter()) {
      // Placement down does not stop the node from running its capsules:
      // shown, but the agent stays healthy.
      probes.push_back({"placement", [p] { return p->Check(); }, false});
    }
    health =
        std::make_unique<zun::observe::HealthMonitor>(std::move(probes), clock);
    health->Start();
    absl::StatusOr<std::unique_ptr<zun::observe::StatusServer>> server =
        zun::observe::StatusServer::Start(config->metrics_listen, metrics,
                                          *health, clock);
    if (!server.ok()) return Fail(std::string(server.status().message()));
    status_server = *std::move(server);
    ZUN_LOG(kMain, info, "metrics and /healthz on {} (port {})",
            config->metrics_listen, status_server->port());
  }

  zun::Waker stop;
  std::thread signal_thread([&] {
    zun::SetCurrentThreadName("signal");
    int sig = 0;
    sigwait(&stop_signals, &sig);
    ZUN_LOG(kMain, info, "received signal {}", sig);
    stop.Notify();
  });
  absl::Status started = agent.Start(stop);
  if (!started.ok()) {
    if (started.code() != absl::StatusCode::kCancelled) {
      ZUN_LOG(kMain, critical, "cannot start: {}", started.message());
    }
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    return started.code() == absl::StatusCode::kCancelled ? 0 : 1;
  }
  // Serve until a stop signal arrives.
  while (!clock.WaitFor(absl::Hours(24), stop)) {
  }
  agent.Shutdown();
  signal_thread.join();
  return 0;
}
