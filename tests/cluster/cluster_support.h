// File: cluster_support.h
// Distributed servers for the cluster suite, each started by our scripts
// on private ports and stopped (and purged) when the object goes away:
// a three-node RabbitMQ cluster, a PostgreSQL primary with a synchronous
// streaming standby, and PgBouncer in transaction pooling mode. Plus the
// paced publisher the tests share. Not thread-safe (one test's objects).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capsule/model.h"
#include "nlohmann/json.hpp"
#include "tests/support/agent_harness.h"
#include "tests/support/capsule_checks.h"
#include "tests/support/subprocess.h"

namespace zun::testing {

// KEY=VALUE lines of an env file our scripts write.
std::map<std::string, std::string> ReadEnvFile(const std::string& path);

// scripts/start-rabbitmq-cluster.sh: nodes 0..2 on ports first..first+2.
class RabbitCluster {
 public:
  explicit RabbitCluster(int first_port);
  ~RabbitCluster();
  // oslo's multi-host transport_url with node `first` listed first (a
  // client connects to the first node it can reach).
  std::string Url(int first) const;
  // AMQP connections node `i` holds now (-1 if it cannot tell).
  int Connections(int i) const;
  void Kill(int i);     // SIGKILL of the node's Erlang VM
  void Restart(int i);  // starts it again; it rejoins the cluster

 private:
  std::string base_;
  int first_port_;
  std::map<std::string, std::string> env_;
};

// scripts/start-postgres-ha.sh: primary and synchronous standby.
class PostgresPair {
 public:
  PostgresPair(int primary_port, int standby_port);
  ~PostgresPair();
  // Multi-host libpq URI (target_session_attrs=read-write) for database
  // `db` (may be "{db}" for the harness).
  std::string Url(const std::string& db) const;
  std::string primary_socket() const;
  std::string standby_socket() const;
  int primary_port() const { return primary_port_; }
  int standby_port() const { return standby_port_; }
  void KillPrimary();     // SIGKILL of the primary's postmaster
  void PromoteStandby();  // returns once the standby accepts writes

 private:
  std::string base_;
  int primary_port_;
  int standby_port_;
  std::map<std::string, std::string> env_;
};

// scripts/start-pgbouncer.sh in front of a PostgreSQL on 127.0.0.1.
class PgBouncer {
 public:
  PgBouncer(int port, int pg_port);
  ~PgBouncer();
  // URI through PgBouncer for database `db` (may be "{db}").
  std::string Url(const std::string& db) const;
  // Rows of an admin console SHOW command (e.g. "SHOW POOLS").
  std::vector<std::map<std::string, std::string>> Show(
      const std::string& what) const;

 private:
  std::string base_;
  int port_;
};

// The paced oslo.messaging publisher (tests/tools/oslo_client.py
// cast-paced) sending `casts` to `url`; its log lines "sent <i> <t>".
std::unique_ptr<Subprocess> StartPacedPublisher(
    const std::string& url, const std::vector<std::string>& extra,
    const std::string& file, double interval_s, const std::string& log);
int SentCount(const std::string& log);

// `n` capsules written as the API does, and their container_create casts.
struct CapsuleBatch {
  std::vector<capsule::Capsule> capsules;
  std::vector<nlohmann::json> casts;
};
CapsuleBatch MakeBatch(AgentHarness& h, const std::string& prefix, int n);

}  // namespace zun::testing
