#include "db/schema.h"

namespace zun::db {

// Every statement is IF NOT EXISTS: db-sync also runs on a database that
// Zun's own migrations created, adding only what the agent needs beyond it.
const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1,
       "Zun tables used by the compute agent",
       {
           R"sql(CREATE TABLE IF NOT EXISTS registry (
  id SERIAL PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  project_id VARCHAR(255), user_id VARCHAR(255),
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_registry0uuid UNIQUE,
  name VARCHAR(255), domain VARCHAR(255) NOT NULL,
  username VARCHAR(255), password VARCHAR(255)))sql",
           R"sql(CREATE TABLE IF NOT EXISTS container (
  id SERIAL PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  project_id VARCHAR(255), user_id VARCHAR(255),
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_container0uuid UNIQUE,
  container_id VARCHAR(255), name VARCHAR(255), image VARCHAR(255),
  cpu DOUBLE PRECISION, cpu_policy VARCHAR(255) DEFAULT 'shared',
  cpuset TEXT, command TEXT, memory VARCHAR(255),
  status VARCHAR(20), status_reason TEXT, task_state VARCHAR(20),
  environment TEXT, workdir VARCHAR(255), ports TEXT,
  hostname VARCHAR(255), labels TEXT, addresses TEXT,
  image_pull_policy TEXT, host VARCHAR(255), restart_policy TEXT,
  status_detail VARCHAR(50), interactive BOOLEAN, tty BOOLEAN,
  image_driver TEXT, websocket_url VARCHAR(255),
  websocket_token VARCHAR(255), security_groups TEXT,
  auto_remove BOOLEAN, runtime VARCHAR(32), disk INTEGER,
  auto_heal BOOLEAN,
  capsule_id INTEGER REFERENCES container(id) ON DELETE CASCADE,
  started_at TIMESTAMP, privileged BOOLEAN, healthcheck TEXT,
  exposed_ports TEXT,
  registry_id INTEGER REFERENCES registry(id),
  container_type INTEGER NOT NULL DEFAULT 0,
  annotations TEXT, cni_metadata TEXT, entrypoint TEXT))sql",
           "CREATE INDEX IF NOT EXISTS container_container_type_idx ON "
           "container "
           "(container_type)",
           "CREATE INDEX IF NOT EXISTS container_host_idx ON container (host)",
           "CREATE INDEX IF NOT EXISTS container_capsule_id_idx ON container "
           "(capsule_id)",
           R"sql(CREATE TABLE IF NOT EXISTS container_actions (
  id SERIAL PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  action VARCHAR(255),
  container_uuid VARCHAR(36) NOT NULL
    REFERENCES container(uuid) ON DELETE CASCADE,
  request_id VARCHAR(255), user_id VARCHAR(255), project_id VARCHAR(255),
  start_time TIMESTAMP, finish_time TIMESTAMP, message VARCHAR(255)))sql",
           "CREATE INDEX IF NOT EXISTS container_actions_container_uuid_idx ON "
           "container_actions (container_uuid)",
           R"sql(CREATE TABLE IF NOT EXISTS container_actions_events (
  id SERIAL PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  event VARCHAR(255),
  action_id INTEGER NOT NULL
    REFERENCES container_actions(id) ON DELETE CASCADE,
  start_time TIMESTAMP, finish_time TIMESTAMP,
  result VARCHAR(255), traceback TEXT, details TEXT))sql",
           R"sql(CREATE TABLE IF NOT EXISTS zun_service (
  id SERIAL PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  host VARCHAR(255), "binary" VARCHAR(255),
  disabled BOOLEAN DEFAULT false, disabled_reason VARCHAR(255),
  last_seen_up TIMESTAMP, forced_down BOOLEAN DEFAULT false,
  report_count INTEGER NOT NULL DEFAULT 0,
  availability_zone VARCHAR(255),
  CONSTRAINT uniq_zun_service0host0binary UNIQUE (host, "binary")))sql",
           R"sql(CREATE TABLE IF NOT EXISTS compute_node (
  uuid VARCHAR(36) PRIMARY KEY,
  rp_uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_compute_node0rp_uuid UNIQUE,
  hostname VARCHAR(255) NOT NULL,
  numa_topology TEXT,
  mem_total INTEGER NOT NULL, mem_free INTEGER NOT NULL,
  mem_available INTEGER NOT NULL, mem_used INTEGER NOT NULL,
  total_containers INTEGER NOT NULL, running_containers INTEGER NOT NULL,
  paused_containers INTEGER NOT NULL, stopped_containers INTEGER NOT NULL,
  cpus INTEGER NOT NULL, cpu_used DOUBLE PRECISION NOT NULL,
  architecture VARCHAR(32), os_type VARCHAR(32), os VARCHAR(64),
  kernel_version VARCHAR(128), labels TEXT, pci_stats TEXT,
  disk_total INTEGER NOT NULL, disk_used INTEGER NOT NULL,
  disk_quota_supported BOOLEAN NOT NULL DEFAULT false,
  runtimes TEXT,
  enable_cpu_pinning BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMP, updated_at TIMESTAMP))sql",
           "CREATE INDEX IF NOT EXISTS compute_node_hostname_idx ON "
           "compute_node (hostname)",
           R"sql(CREATE TABLE IF NOT EXISTS volume (
  id SERIAL PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_volume0uuid UNIQUE,
  project_id VARCHAR(255), user_id VARCHAR(255),
  cinder_volume_id VARCHAR(36), volume_provider VARCHAR(36) NOT NULL,
  connection_info TEXT, host VARCHAR(255), auto_remove BOOLEAN,
  contents TEXT))sql",
           R"sql(CREATE TABLE IF NOT EXISTS volume_mapping (
  id SERIAL PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_volume_mapping0uuid UNIQUE,
  project_id VARCHAR(255), user_id VARCHAR(255),
  volume_id INTEGER NOT NULL REFERENCES volume(id) ON DELETE CASCADE,
  container_path VARCHAR(255),
  container_uuid VARCHAR(36) REFERENCES container(uuid) ON DELETE CASCADE))sql",
       }},
      {2,
       "volume_mapping.read_only (capsule volumeMounts readOnly)",
       {
           "ALTER TABLE volume_mapping ADD COLUMN IF NOT EXISTS read_only "
           "BOOLEAN NOT NULL "
           "DEFAULT false",
           "CREATE INDEX IF NOT EXISTS volume_mapping_container_uuid_idx ON "
           "volume_mapping "
           "(container_uuid)",
       }},
  };
  return *migrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

}  // namespace zun::db
