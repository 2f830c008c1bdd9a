// File: config.h
// zun-agent's configuration: one oslo.config-style INI file (zun.conf option
// names wherever Zun has one), parsed once at the edge into this typed,
// validated struct; every component receives its part through constructors.
// Unknown options in a section we own, and bad values, are errors naming the
// file, section and key. Options that Zun defines for other parts of
// zun-compute (so a real zun.conf can be reused) are accepted and ignored;
// sections of other services ([keystone_authtoken], [api], ...) are skipped.
//
// Value type; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/fernet.h"
#include "common/ini.h"
#include "db/pg_options.h"
#include "rpc/amqp_connection.h"

namespace zun::config {

struct AgentConfig {
  // --- [DEFAULT] ---
  std::string host;  // default: the machine's hostname
  std::string transport_url;
  std::string control_exchange = "zun";
  int rpc_response_timeout = 60;  // seconds (zun-capsule calls)
  std::string default_availability_zone = "nova";
  absl::Duration report_interval = absl::Seconds(10);
  std::string container_runtime = "runc";
  bool debug = false;
  std::string log_file;  // empty: stderr
  // Per-component log levels, e.g. {"rpc": "debug"}.
  std::map<std::string, std::string> log_levels;
  std::string metrics_listen;  // "127.0.0.1:9464"; empty: off
  std::string state_path = "/var/lib/zun";
  // Key of the registry passwords the Zun API stores (Fernet); Zun's
  // default unless set.
  std::string auth_encryption_key = kZunDefaultEncryptionKey;

  // --- [keystone_auth] (keystoneauth option names) ---
  struct KeystoneAuth {
    std::string auth_type;  // password, v3password, admin_token
    std::string auth_url;
    std::string username, user_id, password;
    std::string user_domain_name, user_domain_id;
    std::string project_name, project_id;
    std::string project_domain_name, project_domain_id;
    std::string default_domain_name, default_domain_id;
    std::string token;     // admin_token
    std::string endpoint;  // admin_token
    std::string cafile, certfile, keyfile;
    bool insecure = false;
    absl::Duration timeout = absl::Seconds(30);
  } keystone_auth;

  // --- [placement_client] (Zun's options, plus keystoneauth's
  // endpoint_override) ---
  struct ServiceClient {
    std::string region_name;
    std::string endpoint_type = "publicURL";
    std::string endpoint_override;
    std::string ca_file, cert_file, key_file;
    bool insecure = false;
    absl::Duration timeout = absl::Seconds(30);
  } placement_client;

  // --- [neutron_client] (the same options, for Neutron) ---
  ServiceClient neutron_client;

  // --- [network] driver: "cni" gives every capsule Neutron ports, plugged
  // by zun-cni / zun-cni-daemon (docs/networking.md); "local" (ours, the
  // default) leaves pod addresses to the node's own CNI network. Upstream's
  // "kuryr" (Docker's libnetwork) means "local" here. ---
  struct Network {
    std::string driver = "local";
  } network;
  bool NeutronPorts() const { return network.driver == "cni"; }

  // --- [neutron] ovs_bridge (the OVS translator's default bridge) ---
  std::string ovs_bridge = "br-int";

  // --- [cni_daemon] (zun-cni-daemon and the zun-cni plugin) ---
  struct CniDaemon {
    std::string cni_daemon_host = "127.0.0.1";
    int cni_daemon_port = 9036;
    absl::Duration vif_active_timeout = absl::Seconds(60);
    std::string state_dir;  // default: <state_path>/cni
    absl::Duration neutron_poll_interval = absl::Seconds(1);
  } cni_daemon;

  // --- [database] ---
  struct Database {
    std::string connection;  // libpq URI or key=value
    int max_pool_size = 8;
    absl::Duration pool_timeout = absl::Seconds(10);
    absl::Duration statement_timeout = absl::Seconds(10);
    absl::Duration connect_timeout = absl::Seconds(5);
    // Behind PgBouncer with pool_mode = transaction (db/pg_options.h).
    bool transaction_pooling = false;
  } database;

  // --- [cri] ---
  struct Cri {
    std::string runtime_endpoint = "unix:///run/containerd/containerd.sock";
    std::string image_endpoint;  // empty: runtime_endpoint
    absl::Duration request_timeout = absl::Seconds(10);
    absl::Duration image_pull_timeout = absl::Minutes(5);
    absl::Duration sandbox_create_timeout = absl::Minutes(4);
    // Zun runtime name -> CRI runtime handler ("" = the runtime's default).
    std::map<std::string, std::string> runtime_handlers = {{"runc", ""}};
    std::string sandbox_namespace = "default";
  } cri;

  // --- [compute] ---
  struct Compute {
    std::string topic = "zun-compute";
    int max_concurrent_operations = 256;
    absl::Duration reconcile_interval = absl::Seconds(2);
    absl::Duration orphan_grace_period = absl::Seconds(60);
    absl::Duration inventory_interval = absl::Seconds(60);
    absl::Duration stop_grace_period = absl::Seconds(10);
    absl::Duration shutdown_timeout = absl::Seconds(30);
    absl::Duration restart_backoff_initial = absl::Seconds(10);
    absl::Duration restart_backoff_max = absl::Minutes(5);
    absl::Duration restart_backoff_reset = absl::Minutes(10);
    bool allow_privileged = false;
    std::vector<std::string> host_path_allowlist;
    std::string pod_log_root = "/var/log/zun/pods";
    std::string cgroup_root = "/zun";
    std::string seccomp_profile = "runtime/default";
    std::vector<std::string> dns_servers;
    std::vector<std::string> dns_searches;
    std::vector<std::string> dns_options;
    std::map<std::string, std::string> sysctls;
    std::string network_name = "default";  // key of `addresses` w/o Neutron
    bool enable_cpu_pinning = false;
    int reserved_host_cpus = 0;
    int reserved_host_memory_mb = 512;
    int reserved_host_disk_mb = 0;
    double reserve_disk_for_image = 0.2;
    // Placement: unset ratios keep the provider's, else the initial_ ones.
    std::optional<double> cpu_allocation_ratio;
    std::optional<double> ram_allocation_ratio;
    std::optional<double> disk_allocation_ratio;
    double initial_cpu_allocation_ratio = 16.0;
    double initial_ram_allocation_ratio = 1.5;
    double initial_disk_allocation_ratio = 1.0;
    bool host_shared_with_nova = false;
    absl::Duration resource_provider_association_refresh = absl::Minutes(5);
    // A capsule placed here (Placement allocation) that is still Creating
    // without a host after this long lost its create cast: it is created.
    absl::Duration lost_create_grace_period = absl::Seconds(60);
  } compute;

  // --- [oslo_messaging_rabbit] ---
  struct Rabbit {
    int heartbeat_timeout_threshold = 60;
    int rabbit_qos_prefetch_count = 0;
    bool amqp_durable_queues = false;
    bool amqp_auto_delete = false;
    bool rabbit_ha_queues = false;
    bool rabbit_quorum_queue = false;
    int rabbit_transient_queues_ttl = 1800;
    bool ssl = false;
    std::string ssl_ca_file;
    std::string ssl_cert_file;
    std::string ssl_key_file;
    absl::Duration rabbit_retry_interval = absl::Seconds(1);
    absl::Duration rabbit_interval_max = absl::Seconds(30);
    absl::Duration kombu_missing_consumer_retry_timeout = absl::Seconds(60);
    int max_message_bytes = 4 << 20;
  } rabbit;

  // --- [volume] ---
  struct Volume {
    std::string volume_dir;  // default: <state_path>/mnt
  } volume;

  // Not options: what the file set that zun-agent does not use (upstream
  // zun-compute's, or other services'), as "[section] key", and whole
  // sections as "[section] (N options ...)", by section. Reported once at
  // start and by --check-config.
  std::vector<std::string> unused;
};

// Parses and validates. INVALID_ARGUMENT messages read
// "FILE: [section] key: what is wrong".
absl::StatusOr<AgentConfig> ParseConfig(const IniFile& ini);
absl::StatusOr<AgentConfig> LoadConfig(const std::string& path);

// Checks cross-field rules (required options, ranges, endpoints).
absl::Status ValidateConfig(const AgentConfig& config, const std::string& file);

// Every effective value as "[section] key = value" lines, credentials
// redacted, then the options set but not used (for --check-config).
std::string DescribeConfig(const AgentConfig& config);

// True when [keystone_auth] holds credentials, so the agent reports to
// Placement (password types need auth_url; admin_token its token).
bool PlacementConfigured(const AgentConfig& config);

// [database] as connection pool options (zun-agent, zun-cni-daemon).
db::PgOptions PgOptionsFrom(const AgentConfig& config);

// [oslo_messaging_rabbit] ssl* as connection options (for the agent's
// server and zun-capsule's caster; an amqps:// URL enables TLS as well).
rpc::AmqpTlsOptions AmqpTlsFrom(const AgentConfig& config);

}  // namespace zun::config
