// File: agent_harness.h
// An agent under test as real processes: a scratch database, fake-cri on a
// private socket, zun-agent with a generated config (unique host name, so
// tests share the broker without sharing queues), and a real oslo.messaging
// client (tests/tools/oslo_client.py under /usr/bin/python3) to talk to it.
// Everything is stopped and removed when the harness goes away.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capsule/model.h"
#include "cri/grpc_cri_client.h"
#include "db/api_store.h"
#include "nlohmann/json.hpp"
#include "tests/support/scratch_db.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_env.h"

namespace zun::testing {

struct HarnessOptions {
  std::vector<std::string> fake_cri_args;  // extra flags for fake-cri
  std::string extra_config;                // INI text appended to the config
  bool start_agent = true;
  std::string amqp_url;  // default: the shared test broker
  // What the agent's config says instead of amqp_url / the scratch
  // database's URL (e.g. TLS); the test's own clients still use those.
  // "{db}" in agent_db_connection is replaced by the scratch database name.
  std::string agent_transport_url;
  std::string agent_db_connection;
  std::string pg_socket;  // default: the shared test PostgreSQL
  int pg_port = 0;
  // An existing database to share with other agents (a fleet) instead of
  // a scratch database of this harness's own.
  std::string database;
  int metrics_port = 0;  // > 0: [DEFAULT] metrics_listen = 127.0.0.1:PORT
  // A real runtime (e.g. the e2e containerd) instead of a private fake-cri;
  // then cgroup_root is the agent's [compute] cgroup_root.
  std::string cri_endpoint;
  std::string cgroup_root;
  int cri_request_timeout_s = 5;
  // The agent's [DEFAULT] host; default: a unique generated name.
  std::string host;
  // The agent's default intervals and log levels instead of the tests'
  // accelerated ones (benchmarks).
  bool default_settings = false;
  // false: the scratch database is left empty (a test runs db-sync).
  bool sync_schema = true;
  // The zun-agent binary StartAgent runs; default: this build's.
  std::string agent_binary;
};

// Environment for the Python tools (the zun.common.exception stand-in).
std::map<std::string, std::string> PyEnv();

class AgentHarness {
 public:
  explicit AgentHarness(HarnessOptions options = {});
  ~AgentHarness();

  const std::string& host() const { return host_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& config_path() const { return config_path_; }
  ScratchDatabase& db() { return db_; }
  db::ApiStore& api() { return *api_; }
  cri::GrpcCriClient& cri() { return *cri_; }  // talks to fake-cri
  const std::string& cri_endpoint() const { return cri_endpoint_; }

  // zun-agent process control. set_agent_binary changes the binary the next
  // StartAgent runs (an upgrade).
  void set_agent_binary(std::string path) {
    options_.agent_binary = std::move(path);
  }
  void StartAgent();
  absl::StatusOr<int> StopAgent();  // SIGTERM, returns the exit status
  void KillAgent();                 // SIGKILL
  Subprocess* agent() { return agent_.get(); }
  Subprocess* fake_cri() { return fake_cri_.get(); }
  // fake-cri process control (a restart that loses its state).
  void RestartFakeCri();
  void StopFakeCri();
  void StartFakeCri();

  // Casts / calls through the real oslo.messaging client.
  absl::Status Cast(const std::string& method, const nlohmann::json& args,
                    const std::vector<std::string>& extra = {});
  absl::StatusOr<nlohmann::json> Call(
      const std::string& method, const nlohmann::json& args,
      double timeout_s = 30, const std::vector<std::string>& extra = {});
  // Sends many casts over one client connection: each item is
  // {"method", "args"} (server = this host).
  absl::Status CastMany(const std::vector<nlohmann::json>& messages);

  // Writes a capsule as the Zun API does (status Creating). `images` are
  // the children's images; init containers first when `init_images` given.
  capsule::Capsule CreateCapsuleRows(
      const std::string& name, const std::vector<std::string>& images,
      const std::vector<std::string>& init_images = {});
  // Writes `c` as the API does (uuids, names and defaults filled in where
  // empty; status Creating).
  capsule::Capsule CreateCapsule(capsule::Capsule c);
  // A child as the API writes it.
  static capsule::ContainerRecord Child(const std::string& name,
                                        std::vector<std::string> command,
                                        bool init = false,
                                        const std::string& image = "busybox");

  // The Capsule primitive the API sends in container_create (no children).
  nlohmann::json CapsulePrimitive(const capsule::Capsule& c) const;
  // container_create / container_delete as the API casts them.
  absl::Status CastCreate(const capsule::Capsule& c);
  absl::Status CastDelete(const capsule::Capsule& c, bool force = false);

  const std::string& amqp_url() const { return amqp_url_; }
  // Writes a JSON-lines file of casts to this host (for the Python tool's
  // cast-many / cast-paced); returns its path.
  std::string WriteCastFile(const std::vector<nlohmann::json>& messages);
  // The container_create arguments the API sends for `c`.
  nlohmann::json CreateArgs(const capsule::Capsule& c) const;

  // Reads of the capsule rows.
  std::optional<SqlRow> CapsuleRow(const std::string& uuid);
  std::vector<SqlRow> ChildRows(const std::string& capsule_uuid);
  std::string StatusOf(const std::string& uuid);

  // Blocks until the agent answers RPCs (a container_show round trip);
  // `extra` goes to the oslo client (e.g. --config-file for durable queues).
  bool WaitServing(absl::Duration timeout = absl::Seconds(60),
                   const std::vector<std::string>& extra = {});

 private:
  std::vector<std::string> ClientArgs() const;
  std::string amqp_url_;

  HarnessOptions options_;
  ScopedTempDir dir_;
  ScratchDatabase db_;
  std::unique_ptr<db::ApiStore> api_;
  std::string host_;
  std::string cri_endpoint_;
  std::string config_path_;
  std::unique_ptr<Subprocess> fake_cri_;
  std::unique_ptr<Subprocess> agent_;
  std::unique_ptr<cri::GrpcCriClient> cri_;
};

}  // namespace zun::testing
