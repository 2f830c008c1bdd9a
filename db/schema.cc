#include "db/schema.h"

namespace zun::db {
namespace {

// Zun's tables at alembic head 3f2b36231bee, as Zun's migration chain
// defines them (MySQL types in PostgreSQL terms: DATETIME is TIMESTAMP,
// Float is DOUBLE PRECISION, MEDIUMTEXT is TEXT), with Zun's constraint and
// index names, foreign keys and ON DELETE actions, and no server defaults
// Zun lacks. Two names differ because PostgreSQL's index names are
// per-schema: volume_mapping's unique is uniq_volume_mapping0uuid (Zun
// names both it and volume's uniq_volume0uuid), and quota_usages.id is a
// SERIAL primary key as Zun's model declares (its migration forgot the
// key, which leaves inserts without an id failing on PostgreSQL).
// Every statement is IF NOT EXISTS, so this also completes a database that
// holds some of Zun's tables.
std::vector<std::string> ZunTables() {
  return {
      R"sql(CREATE TABLE IF NOT EXISTS zun_service (
  id SERIAL CONSTRAINT zun_service_pkey PRIMARY KEY,
  created_at TIMESTAMP, updated_at TIMESTAMP,
  report_count INTEGER NOT NULL,
  host VARCHAR(255), "binary" VARCHAR(255),
  disabled BOOLEAN, disabled_reason VARCHAR(255),
  last_seen_up TIMESTAMP, forced_down BOOLEAN,
  availability_zone VARCHAR(255),
  CONSTRAINT uniq_zun_service0host0binary UNIQUE (host, "binary")))sql",
      R"sql(CREATE TABLE IF NOT EXISTS registry (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT registry_pkey PRIMARY KEY,
  project_id VARCHAR(255), user_id VARCHAR(255),
  uuid VARCHAR(36) CONSTRAINT uniq_registry0uuid UNIQUE,
  name VARCHAR(255), domain VARCHAR(255) NOT NULL,
  username VARCHAR(255), password VARCHAR(255)))sql",
      R"sql(CREATE TABLE IF NOT EXISTS container (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT container_pkey PRIMARY KEY,
  project_id VARCHAR(255), user_id VARCHAR(255),
  uuid VARCHAR(36) CONSTRAINT uniq_container0uuid UNIQUE,
  name VARCHAR(255), image VARCHAR(255), command TEXT,
  status VARCHAR(20), environment TEXT, container_id VARCHAR(255),
  memory VARCHAR(255), task_state VARCHAR(20), cpu DOUBLE PRECISION,
  workdir VARCHAR(255), ports TEXT, hostname VARCHAR(255), labels TEXT,
  status_reason TEXT, image_pull_policy TEXT, addresses TEXT,
  host VARCHAR(255), restart_policy TEXT, status_detail VARCHAR(50),
  image_driver TEXT, interactive BOOLEAN, websocket_url VARCHAR(255),
  websocket_token VARCHAR(255), security_groups TEXT, auto_remove BOOLEAN,
  runtime VARCHAR(32), disk INTEGER, auto_heal BOOLEAN,
  capsule_id INTEGER CONSTRAINT container_capsule_id_fkey
    REFERENCES container(id) ON DELETE CASCADE,
  started_at TIMESTAMP, privileged BOOLEAN, healthcheck TEXT,
  exposed_ports TEXT, cpu_policy VARCHAR(255), cpuset TEXT,
  registry_id INTEGER CONSTRAINT container_registry_id_fkey
    REFERENCES registry(id),
  container_type INTEGER DEFAULT '0', tty BOOLEAN, annotations TEXT,
  cni_metadata TEXT, entrypoint TEXT))sql",
      "CREATE INDEX IF NOT EXISTS ix_container_container_type ON container "
      "(container_type)",
      R"sql(CREATE TABLE IF NOT EXISTS container_actions (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT container_actions_pkey PRIMARY KEY,
  action VARCHAR(255),
  container_uuid VARCHAR(36) NOT NULL
    CONSTRAINT container_actions_container_uuid_fkey
    REFERENCES container(uuid) ON DELETE CASCADE,
  request_id VARCHAR(255), user_id VARCHAR(255), project_id VARCHAR(255),
  start_time TIMESTAMP, finish_time TIMESTAMP, message VARCHAR(255)))sql",
      "CREATE INDEX IF NOT EXISTS container_uuid_idx ON container_actions "
      "(container_uuid)",
      "CREATE INDEX IF NOT EXISTS request_id_idx ON container_actions "
      "(request_id)",
      R"sql(CREATE TABLE IF NOT EXISTS container_actions_events (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT container_actions_events_pkey PRIMARY KEY,
  event VARCHAR(255),
  action_id INTEGER NOT NULL
    CONSTRAINT container_actions_events_action_id_fkey
    REFERENCES container_actions(id) ON DELETE CASCADE,
  start_time TIMESTAMP, finish_time TIMESTAMP,
  result VARCHAR(255), traceback TEXT, details TEXT))sql",
      R"sql(CREATE TABLE IF NOT EXISTS compute_node (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  uuid VARCHAR(36) NOT NULL CONSTRAINT compute_node_pkey PRIMARY KEY,
  hostname VARCHAR(255) NOT NULL, numa_topology TEXT,
  mem_total INTEGER NOT NULL, mem_free INTEGER NOT NULL,
  mem_available INTEGER NOT NULL,
  total_containers INTEGER NOT NULL, running_containers INTEGER NOT NULL,
  paused_containers INTEGER NOT NULL, stopped_containers INTEGER NOT NULL,
  cpus INTEGER NOT NULL, cpu_used DOUBLE PRECISION NOT NULL,
  architecture VARCHAR(32), os_type VARCHAR(32), os VARCHAR(64),
  kernel_version VARCHAR(128), labels TEXT, mem_used INTEGER NOT NULL,
  pci_stats TEXT, disk_total INTEGER NOT NULL, disk_used INTEGER NOT NULL,
  disk_quota_supported BOOLEAN NOT NULL DEFAULT false, runtimes TEXT,
  enable_cpu_pinning BOOLEAN NOT NULL DEFAULT false,
  rp_uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_compute_node0rp_uuid UNIQUE))sql",
      R"sql(CREATE TABLE IF NOT EXISTS volume (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT volume_pkey PRIMARY KEY,
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_volume0uuid UNIQUE,
  project_id VARCHAR(255), user_id VARCHAR(255),
  cinder_volume_id VARCHAR(36), volume_provider VARCHAR(36) NOT NULL,
  connection_info TEXT, host VARCHAR(255), auto_remove BOOLEAN,
  contents TEXT))sql",
      R"sql(CREATE TABLE IF NOT EXISTS volume_mapping (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT volume_mapping_pkey PRIMARY KEY,
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_volume_mapping0uuid UNIQUE,
  project_id VARCHAR(255), user_id VARCHAR(255),
  container_uuid VARCHAR(36) CONSTRAINT volume_mapping_container_uuid_fkey
    REFERENCES container(uuid),
  container_path VARCHAR(255),
  volume_id INTEGER NOT NULL CONSTRAINT volume_mapping_volume_id_fkey
    REFERENCES volume(id) ON DELETE CASCADE))sql",
      R"sql(CREATE TABLE IF NOT EXISTS pci_device (
  id SERIAL CONSTRAINT pci_device_pkey PRIMARY KEY,
  uuid VARCHAR(36),
  compute_node_uuid VARCHAR(36) NOT NULL
    CONSTRAINT pci_device_compute_node_uuid_fkey
    REFERENCES compute_node(uuid),
  address VARCHAR(12) NOT NULL, vendor_id VARCHAR(4) NOT NULL,
  product_id VARCHAR(4) NOT NULL, dev_type VARCHAR(8) NOT NULL,
  dev_id VARCHAR(255), label VARCHAR(255) NOT NULL,
  status VARCHAR(36) NOT NULL, extra_info TEXT, container_uuid VARCHAR(36),
  numa_node INTEGER, parent_addr VARCHAR(12),
  created_at TIMESTAMP, updated_at TIMESTAMP, request_id VARCHAR(36),
  CONSTRAINT uniq_pci_device0compute_node_uuid0address
    UNIQUE (compute_node_uuid, address)))sql",
      "CREATE INDEX IF NOT EXISTS ix_pci_device_compute_node_uuid ON "
      "pci_device (compute_node_uuid)",
      "CREATE INDEX IF NOT EXISTS ix_pci_device_container_uuid ON pci_device "
      "(container_uuid)",
      "CREATE INDEX IF NOT EXISTS ix_pci_device_compute_node_uuid_parent_addr "
      "ON pci_device (compute_node_uuid, parent_addr)",
      R"sql(CREATE TABLE IF NOT EXISTS exec_instance (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT exec_instance_pkey PRIMARY KEY,
  container_id INTEGER NOT NULL CONSTRAINT exec_instance_container_id_fkey
    REFERENCES container(id) ON DELETE CASCADE,
  exec_id VARCHAR(255) NOT NULL, token VARCHAR(255), url VARCHAR(255),
  CONSTRAINT uniq_exec_instance0container_id_exec_id
    UNIQUE (container_id, exec_id)))sql",
      R"sql(CREATE TABLE IF NOT EXISTS image (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT image_pkey PRIMARY KEY,
  project_id VARCHAR(255), user_id VARCHAR(255), uuid VARCHAR(36),
  image_id VARCHAR(255), repo VARCHAR(255), tag VARCHAR(255),
  size VARCHAR(255), host VARCHAR(255),
  CONSTRAINT uniq_image0repotaghost UNIQUE (repo, tag, host)))sql",
      R"sql(CREATE TABLE IF NOT EXISTS resource_provider (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT resource_provider_pkey PRIMARY KEY,
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_resource_provider0uuid UNIQUE,
  name VARCHAR(255) NOT NULL, root_provider VARCHAR(36) NOT NULL,
  parent_provider VARCHAR(36), can_host INTEGER))sql",
      R"sql(CREATE TABLE IF NOT EXISTS resource_class (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT resource_class_pkey PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  uuid VARCHAR(36) NOT NULL CONSTRAINT uniq_resource_class0uuid UNIQUE))sql",
      R"sql(CREATE TABLE IF NOT EXISTS inventory (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT inventory_pkey PRIMARY KEY,
  resource_provider_id INTEGER NOT NULL, resource_class_id INTEGER NOT NULL,
  total INTEGER NOT NULL, reserved INTEGER NOT NULL,
  min_unit INTEGER NOT NULL, max_unit INTEGER NOT NULL,
  step_size INTEGER NOT NULL, allocation_ratio DOUBLE PRECISION NOT NULL,
  is_nested INTEGER NOT NULL, blob TEXT,
  CONSTRAINT uniq_inventory0resource_provider_resource_class
    UNIQUE (resource_provider_id, resource_class_id)))sql",
      "CREATE INDEX IF NOT EXISTS inventory_resource_provider_id_idx ON "
      "inventory (resource_provider_id)",
      "CREATE INDEX IF NOT EXISTS inventory_resource_provider_resource_class_"
      "idx ON inventory (resource_provider_id, resource_class_id)",
      "CREATE INDEX IF NOT EXISTS inventory_resource_class_id_idx ON "
      "inventory (resource_class_id)",
      R"sql(CREATE TABLE IF NOT EXISTS allocation (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT allocation_pkey PRIMARY KEY,
  resource_provider_id INTEGER NOT NULL, consumer_id VARCHAR(36) NOT NULL,
  resource_class_id INTEGER NOT NULL, used INTEGER NOT NULL,
  is_nested INTEGER NOT NULL, blob TEXT))sql",
      "CREATE INDEX IF NOT EXISTS allocation_resource_provider_class_used_idx "
      "ON allocation (resource_provider_id, resource_class_id, used)",
      "CREATE INDEX IF NOT EXISTS allocation_consumer_id_idx ON allocation "
      "(consumer_id)",
      "CREATE INDEX IF NOT EXISTS allocation_resource_class_id_idx ON "
      "allocation (resource_class_id)",
      R"sql(CREATE TABLE IF NOT EXISTS quotas (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT quotas_pkey PRIMARY KEY,
  project_id VARCHAR(255), resource VARCHAR(255) NOT NULL,
  hard_limit INTEGER))sql",
      "CREATE INDEX IF NOT EXISTS ix_quotas_project_id ON quotas (project_id)",
      R"sql(CREATE TABLE IF NOT EXISTS quota_classes (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT quota_classes_pkey PRIMARY KEY,
  class_name VARCHAR(255), resource VARCHAR(255), hard_limit INTEGER))sql",
      "CREATE INDEX IF NOT EXISTS quota_classes_class_name_idx ON "
      "quota_classes (class_name)",
      R"sql(CREATE TABLE IF NOT EXISTS quota_usages (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT quota_usages_pkey PRIMARY KEY,
  project_id VARCHAR(255), resource VARCHAR(255) NOT NULL,
  in_use INTEGER NOT NULL, reserved INTEGER NOT NULL,
  until_refresh INTEGER))sql",
      "CREATE INDEX IF NOT EXISTS ix_quota_usages_project_id ON quota_usages "
      "(project_id)",
      R"sql(CREATE TABLE IF NOT EXISTS network (
  created_at TIMESTAMP, updated_at TIMESTAMP,
  id SERIAL CONSTRAINT network_pkey PRIMARY KEY,
  project_id VARCHAR(255), user_id VARCHAR(255), name VARCHAR(255),
  uuid VARCHAR(36) CONSTRAINT uniq_network0uuid UNIQUE,
  network_id VARCHAR(255), neutron_net_id VARCHAR(255), host VARCHAR(255),
  CONSTRAINT uniq_network0neutron_net_id_host UNIQUE (neutron_net_id, host)))sql",
  };
}

// Indexes the agent's own queries need (Zun has none on these columns).
std::vector<std::string> AgentIndexes() {
  return {
      "CREATE INDEX IF NOT EXISTS container_host_idx ON container (host)",
      "CREATE INDEX IF NOT EXISTS container_capsule_id_idx ON container "
      "(capsule_id)",
      "CREATE INDEX IF NOT EXISTS compute_node_hostname_idx ON compute_node "
      "(hostname)",
  };
}

std::vector<std::string> Concat(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Replaces foreign key `name` of `table` by `definition` unless it already
// has the delete action `action` ('a' no action, 'c' cascade).
std::string ForeignKeyAs(const char* table, const char* name,
                         const char* definition, char action) {
  return std::string(
             "DO $$ BEGIN "
             "IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '") +
         name + "' AND conrelid = '" + table +
         "'::regclass AND confdeltype = '" + action + "') THEN ALTER TABLE " +
         table + " DROP CONSTRAINT IF EXISTS " + name + "; ALTER TABLE " +
         table + " ADD CONSTRAINT " + name + " " + definition +
         "; END IF; END $$";
}

}  // namespace

const char kZunAlembicRevision[] = "3f2b36231bee";

const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1, "Zun's tables (alembic head 3f2b36231bee)",
       Concat(ZunTables(), AgentIndexes())},
      {2,
       "volume_mapping.read_only (capsule volumeMounts readOnly)",
       {
           "ALTER TABLE volume_mapping ADD COLUMN IF NOT EXISTS read_only "
           "BOOLEAN NOT NULL DEFAULT false",
           "CREATE INDEX IF NOT EXISTS volume_mapping_container_uuid_idx ON "
           "volume_mapping (container_uuid)",
       }},
      {3,
       "Zun's schema in full: every table, Zun's keys and no defaults "
       "or ON DELETE actions Zun lacks; alembic_version",
       Concat(
           ZunTables(),
           {
               // Databases made by agents before migration 3 had cascades
               // Zun lacks, defaults Zun lacks and other index names.
               ForeignKeyAs("volume_mapping",
                            "volume_mapping_container_uuid_fkey",
                            "FOREIGN KEY (container_uuid) REFERENCES "
                            "container(uuid)",
                            'a'),
               "ALTER TABLE container ALTER COLUMN container_type DROP NOT "
               "NULL",
               "ALTER TABLE container ALTER COLUMN cpu_policy DROP DEFAULT",
               "ALTER TABLE zun_service ALTER COLUMN disabled DROP DEFAULT",
               "ALTER TABLE zun_service ALTER COLUMN forced_down DROP DEFAULT",
               "ALTER TABLE zun_service ALTER COLUMN report_count DROP "
               "DEFAULT",
               "ALTER TABLE registry ALTER COLUMN uuid DROP NOT NULL",
               "CREATE INDEX IF NOT EXISTS ix_container_container_type ON "
               "container (container_type)",
               "DROP INDEX IF EXISTS container_container_type_idx",
               "CREATE INDEX IF NOT EXISTS container_uuid_idx ON "
               "container_actions (container_uuid)",
               "DROP INDEX IF EXISTS container_actions_container_uuid_idx",
               "CREATE INDEX IF NOT EXISTS request_id_idx ON "
               "container_actions (request_id)",
               "CREATE TABLE IF NOT EXISTS alembic_version (version_num "
               "VARCHAR(32) NOT NULL CONSTRAINT alembic_version_pkc PRIMARY "
               "KEY)",
               std::string(
                   "INSERT INTO alembic_version (version_num) SELECT '") +
                   kZunAlembicRevision +
                   "' WHERE NOT EXISTS (SELECT 1 FROM alembic_version)",
           })},
      // Additive only, so an agent of release 0.1.0 (schema 3) keeps
      // running on it: db-sync may run before or after the node's agents
      // are upgraded, and a rollback needs no downgrade.
      {4,
       "zun_agent_schema_version.agent_version (the release that applied "
       "each migration)",
       {
           "ALTER TABLE zun_agent_schema_version ADD COLUMN IF NOT EXISTS "
           "agent_version VARCHAR(64)",
       }},
      // MySQL indexes every foreign key; PostgreSQL does not, so without it
      // each action's events were found (and cascaded on delete) by a scan
      // of every event of the cloud.
      {5,
       "an index on container_actions_events.action_id (the foreign key "
       "MySQL indexes by itself)",
       {
           "CREATE INDEX IF NOT EXISTS container_actions_events_action_id_idx "
           "ON container_actions_events (action_id)",
       }},
  };
  return *migrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

}  // namespace zun::db
