// File: agent.h
// The zun-agent process core: wires the capsule operations, the keyed
// executor and the RPC endpoint to the injected seams (CapsuleStore,
// CriClient, RpcBus, Clock), and runs the startup and shutdown sequences.
//
// Start():    wait for a runtime that serves CRI runtime.v1, recover (load
//             this host's capsules, relist the runtime, resume or finish
//             what was interrupted), start the heartbeat and inventory and
//             the reconciler, then start consuming RPCs.
// Shutdown(): stop taking requests (new ones are requeued by the broker),
//             let in-flight operations finish within
//             [compute] shutdown_timeout, then close the bus.
//
// Start and Shutdown are called from one controlling thread (main).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "agent/capsule_ops.h"
#include "agent/capsule_registry.h"
#include "agent/idle_memory.h"
#include "agent/keyed_executor.h"
#include "agent/reconciler.h"
#include "agent/rpc_endpoint.h"
#include "common/clock.h"
#include "config/config.h"
#include "cri/cri_client.h"
#include "db/capsule_store.h"
#include "node/node_reporter.h"
#include "node/placement_reporter.h"
#include "observe/metrics.h"
#include "openstack/neutron.h"
#include "openstack/placement.h"
#include "rpc/rpc_bus.h"

namespace zun::agent {

struct AgentDeps {
  db::CapsuleStore& store;
  cri::CriClient& cri;
  rpc::RpcBus& bus;
  Clock& clock;
  // Optional: operations and relists report here, and the agent registers
  // its pulled sources (RPC messages, reconciler, capsules by status).
  observe::AgentMetrics* metrics = nullptr;
  // Optional: the node reports itself to Placement and releases the
  // allocations of deleted, failed and refused capsules.
  openstack::PlacementClient* placement = nullptr;
  // Optional: capsules get Neutron ports ([network] driver = cni).
  openstack::NeutronClient* neutron = nullptr;
};

// The options a config implies.
OpsOptions OpsOptionsFromConfig(const config::AgentConfig& config);
ReconcilerOptions ReconcilerOptionsFromConfig(
    const config::AgentConfig& config);
node::NodeReporterOptions NodeReporterOptionsFromConfig(
    const config::AgentConfig& config);
node::PlacementReporterOptions PlacementReporterOptionsFromConfig(
    const config::AgentConfig& config);

class Agent {
 public:
  Agent(const config::AgentConfig& config, AgentDeps deps);
  ~Agent();

  // Blocks until the runtime answers (FAILED_PRECONDITION if it does not
  // serve runtime.v1) or `stop` is notified (CANCELLED), then starts the
  // bus.
  absl::Status Start(Waker& stop);
  void Shutdown();

  // The pulled metric sources this agent offers (bus, RPC messages,
  // reconciler, capsules by status); main adds the database's. The agent
  // must outlive their use (the destructor clears deps.metrics' sources).
  observe::MetricSources MetricSourcesOf();

  CapsuleOps& ops() { return *ops_; }
  RpcEndpoint& endpoint() { return *endpoint_; }
  Reconciler& reconciler() { return *reconciler_; }
  node::NodeReporter& node_reporter() { return *node_reporter_; }
  // Null without deps.placement.
  node::PlacementReporter* placement_reporter() {
    return placement_reporter_.get();
  }
  CapsuleRegistry& registry() { return registry_; }

 private:
  const config::AgentConfig config_;
  AgentDeps deps_;
  CapsuleRegistry registry_;
  std::unique_ptr<PortBinder> ports_;  // before ops_, which uses it
  std::unique_ptr<CapsuleOps> ops_;
  std::unique_ptr<KeyedExecutor> executor_;
  IdleMemoryRelease idle_memory_;  // the reconciler's thread only
  std::unique_ptr<RpcEndpoint> endpoint_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<node::PlacementReporter> placement_reporter_;
  std::unique_ptr<node::NodeReporter> node_reporter_;
  bool started_ = false;
};

}  // namespace zun::agent
