#include "agent/config.h"

#include <unistd.h>

#include <functional>
#include <set>
#include <sstream>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"

namespace zun::agent {
namespace {

using StringList = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;
struct Ignored {};
using OptDouble = std::optional<double>;
using FieldRef =
    std::variant<std::string*, int*, bool*, absl::Duration*, double*,
                 OptDouble*, StringList*, StringMap*, Ignored>;

struct OptionDef {
  const char* section;
  const char* name;
  std::function<FieldRef(AgentConfig&)> field;
  bool secret = false;    // a URL with credentials: shown redacted
  bool password = false;  // shown as *** when set
};

#define ZUN_OPT(section, name, expr)                                  \
  OptionDef {                                                         \
    section, name, [](AgentConfig& c) -> FieldRef { return &(expr); } \
  }
#define ZUN_SECRET_OPT(section, name, expr)                                 \
  OptionDef {                                                               \
    section, name, [](AgentConfig& c) -> FieldRef { return &(expr); }, true \
  }
#define ZUN_PASSWORD_OPT(section, name, expr)                                 \
  OptionDef {                                                                 \
    section, name, [](AgentConfig& c) -> FieldRef { return &(expr); }, false, \
        true                                                                  \
  }
#define ZUN_IGNORED(section, name)                                    \
  OptionDef {                                                         \
    section, name, [](AgentConfig&) -> FieldRef { return Ignored{}; } \
  }

const std::vector<OptionDef>& Options() {
  static const auto* opts = new std::vector<OptionDef>{
      ZUN_OPT("DEFAULT", "host", c.host),
      ZUN_SECRET_OPT("DEFAULT", "transport_url", c.transport_url),
      ZUN_OPT("DEFAULT", "control_exchange", c.control_exchange),
      ZUN_OPT("DEFAULT", "rpc_response_timeout", c.rpc_response_timeout),
      ZUN_OPT("DEFAULT", "default_availability_zone",
              c.default_availability_zone),
      ZUN_OPT("DEFAULT", "report_interval", c.report_interval),
      ZUN_OPT("DEFAULT", "container_runtime", c.container_runtime),
      ZUN_OPT("DEFAULT", "debug", c.debug),
      ZUN_OPT("DEFAULT", "log_file", c.log_file),
      ZUN_OPT("DEFAULT", "log_levels", c.log_levels),
      ZUN_OPT("DEFAULT", "metrics_listen", c.metrics_listen),
      ZUN_OPT("DEFAULT", "state_path", c.state_path),
      // Zun [DEFAULT] options for other parts of zun-compute.
      ZUN_IGNORED("DEFAULT", "my_ip"),
      ZUN_IGNORED("DEFAULT", "container_driver"),
      ZUN_IGNORED("DEFAULT", "capsule_driver"),
      ZUN_IGNORED("DEFAULT", "default_sleep_time"),
      ZUN_IGNORED("DEFAULT", "default_timeout"),
      ZUN_IGNORED("DEFAULT", "floating_cpu_set"),
      ZUN_IGNORED("DEFAULT", "default_memory_swap"),
      ZUN_IGNORED("DEFAULT", "minimum_memory"),
      ZUN_IGNORED("DEFAULT", "maximum_memory"),
      ZUN_IGNORED("DEFAULT", "minimum_cpus"),
      ZUN_IGNORED("DEFAULT", "maximum_cpus"),
      ZUN_IGNORED("DEFAULT", "minimum_disk"),
      ZUN_IGNORED("DEFAULT", "maximum_disk"),
      ZUN_IGNORED("DEFAULT", "default_memory"),
      ZUN_IGNORED("DEFAULT", "default_cpu"),
      ZUN_IGNORED("DEFAULT", "default_disk"),
      ZUN_IGNORED("DEFAULT", "periodic_interval_max"),
      ZUN_IGNORED("DEFAULT", "service_down_time"),
      ZUN_IGNORED("DEFAULT", "sync_container_state_interval"),
      ZUN_IGNORED("DEFAULT", "default_schedule_zone"),
      ZUN_IGNORED("DEFAULT", "image_driver_list"),
      ZUN_IGNORED("DEFAULT", "default_image_driver"),
      ZUN_IGNORED("DEFAULT", "sandbox_image"),
      ZUN_IGNORED("DEFAULT", "sandbox_image_driver"),
      ZUN_IGNORED("DEFAULT", "sandbox_image_pull_policy"),
      ZUN_IGNORED("DEFAULT", "rootwrap_config"),
      ZUN_PASSWORD_OPT("DEFAULT", "auth_encryption_key", c.auth_encryption_key),
      ZUN_IGNORED("DEFAULT", "pybasedir"),
      ZUN_IGNORED("DEFAULT", "bindir"),
      ZUN_IGNORED("DEFAULT", "use_stderr"),
      ZUN_IGNORED("DEFAULT", "log_dir"),
      ZUN_IGNORED("DEFAULT", "use_syslog"),
      ZUN_IGNORED("DEFAULT", "api_paste_config"),

      ZUN_SECRET_OPT("database", "connection", c.database.connection),
      ZUN_OPT("database", "max_pool_size", c.database.max_pool_size),
      ZUN_OPT("database", "pool_timeout", c.database.pool_timeout),
      ZUN_OPT("database", "statement_timeout", c.database.statement_timeout),
      ZUN_OPT("database", "connect_timeout", c.database.connect_timeout),
      ZUN_OPT("database", "transaction_pooling",
              c.database.transaction_pooling),
      ZUN_IGNORED("database", "max_overflow"),
      ZUN_IGNORED("database", "connection_recycle_time"),
      ZUN_IGNORED("database", "max_retries"),
      ZUN_IGNORED("database", "retry_interval"),

      ZUN_OPT("cri", "runtime_endpoint", c.cri.runtime_endpoint),
      ZUN_OPT("cri", "image_endpoint", c.cri.image_endpoint),
      ZUN_OPT("cri", "request_timeout", c.cri.request_timeout),
      ZUN_OPT("cri", "image_pull_timeout", c.cri.image_pull_timeout),
      ZUN_OPT("cri", "sandbox_create_timeout", c.cri.sandbox_create_timeout),
      ZUN_OPT("cri", "runtime_handlers", c.cri.runtime_handlers),
      ZUN_OPT("cri", "sandbox_namespace", c.cri.sandbox_namespace),

      ZUN_OPT("compute", "topic", c.compute.topic),
      ZUN_OPT("compute", "max_concurrent_operations",
              c.compute.max_concurrent_operations),
      ZUN_OPT("compute", "reconcile_interval", c.compute.reconcile_interval),
      ZUN_OPT("compute", "orphan_grace_period", c.compute.orphan_grace_period),
      ZUN_OPT("compute", "inventory_interval", c.compute.inventory_interval),
      ZUN_OPT("compute", "stop_grace_period", c.compute.stop_grace_period),
      ZUN_OPT("compute", "shutdown_timeout", c.compute.shutdown_timeout),
      ZUN_OPT("compute", "restart_backoff_initial",
              c.compute.restart_backoff_initial),
      ZUN_OPT("compute", "restart_backoff_max", c.compute.restart_backoff_max),
      ZUN_OPT("compute", "restart_backoff_reset",
              c.compute.restart_backoff_reset),
      ZUN_OPT("compute", "allow_privileged", c.compute.allow_privileged),
      ZUN_OPT("compute", "host_path_allowlist", c.compute.host_path_allowlist),
      ZUN_OPT("compute", "pod_log_root", c.compute.pod_log_root),
      ZUN_OPT("compute", "cgroup_root", c.compute.cgroup_root),
      ZUN_OPT("compute", "seccomp_profile", c.compute.seccomp_profile),
      ZUN_OPT("compute", "dns_servers", c.compute.dns_servers),
      ZUN_OPT("compute", "dns_searches", c.compute.dns_searches),
      ZUN_OPT("compute", "dns_options", c.compute.dns_options),
      ZUN_OPT("compute", "sysctls", c.compute.sysctls),
      ZUN_OPT("compute", "network_name", c.compute.network_name),
      ZUN_OPT("compute", "enable_cpu_pinning", c.compute.enable_cpu_pinning),
      ZUN_OPT("compute", "reserved_host_cpus", c.compute.reserved_host_cpus),
      ZUN_OPT("compute", "reserved_host_memory_mb",
              c.compute.reserved_host_memory_mb),
      ZUN_OPT("compute", "reserved_host_disk_mb",
              c.compute.reserved_host_disk_mb),
      ZUN_OPT("compute", "reserve_disk_for_image",
              c.compute.reserve_disk_for_image),
      ZUN_IGNORED("compute", "resume_container_state"),
      ZUN_IGNORED("compute", "remount_container_volume"),
      ZUN_OPT("compute", "resource_provider_association_refresh",
              c.compute.resource_provider_association_refresh),
      ZUN_OPT("compute", "host_shared_with_nova",
              c.compute.host_shared_with_nova),
      ZUN_OPT("compute", "lost_create_grace_period",
              c.compute.lost_create_grace_period),
      ZUN_IGNORED("compute", "unique_container_name_scope"),
      ZUN_OPT("compute", "cpu_allocation_ratio",
              c.compute.cpu_allocation_ratio),
      ZUN_OPT("compute", "ram_allocation_ratio",
              c.compute.ram_allocation_ratio),
      ZUN_OPT("compute", "disk_allocation_ratio",
              c.compute.disk_allocation_ratio),
      ZUN_OPT("compute", "initial_cpu_allocation_ratio",
              c.compute.initial_cpu_allocation_ratio),
      ZUN_OPT("compute", "initial_ram_allocation_ratio",
              c.compute.initial_ram_allocation_ratio),
      ZUN_OPT("compute", "initial_disk_allocation_ratio",
              c.compute.initial_disk_allocation_ratio),

      ZUN_OPT("keystone_auth", "auth_type", c.keystone_auth.auth_type),
      ZUN_OPT("keystone_auth", "auth_url", c.keystone_auth.auth_url),
      ZUN_OPT("keystone_auth", "username", c.keystone_auth.username),
      ZUN_OPT("keystone_auth", "user_id", c.keystone_auth.user_id),
      ZUN_PASSWORD_OPT("keystone_auth", "password", c.keystone_auth.password),
      ZUN_OPT("keystone_auth", "user_domain_name",
              c.keystone_auth.user_domain_name),
      ZUN_OPT("keystone_auth", "user_domain_id",
              c.keystone_auth.user_domain_id),
      ZUN_OPT("keystone_auth", "project_name", c.keystone_auth.project_name),
      ZUN_OPT("keystone_auth", "project_id", c.keystone_auth.project_id),
      ZUN_OPT("keystone_auth", "project_domain_name",
              c.keystone_auth.project_domain_name),
      ZUN_OPT("keystone_auth", "project_domain_id",
              c.keystone_auth.project_domain_id),
      ZUN_OPT("keystone_auth", "default_domain_name",
              c.keystone_auth.default_domain_name),
      ZUN_OPT("keystone_auth", "default_domain_id",
              c.keystone_auth.default_domain_id),
      ZUN_PASSWORD_OPT("keystone_auth", "token", c.keystone_auth.token),
      ZUN_OPT("keystone_auth", "endpoint", c.keystone_auth.endpoint),
      ZUN_OPT("keystone_auth", "cafile", c.keystone_auth.cafile),
      ZUN_OPT("keystone_auth", "certfile", c.keystone_auth.certfile),
      ZUN_OPT("keystone_auth", "keyfile", c.keystone_auth.keyfile),
      ZUN_OPT("keystone_auth", "insecure", c.keystone_auth.insecure),
      ZUN_OPT("keystone_auth", "timeout", c.keystone_auth.timeout),
      // keystoneauth options for other plugins or features.
      ZUN_IGNORED("keystone_auth", "auth_section"),
      ZUN_IGNORED("keystone_auth", "system_scope"),
      ZUN_IGNORED("keystone_auth", "trust_id"),
      ZUN_IGNORED("keystone_auth", "domain_id"),
      ZUN_IGNORED("keystone_auth", "domain_name"),
      ZUN_IGNORED("keystone_auth", "collect_timing"),
      ZUN_IGNORED("keystone_auth", "split_loggers"),

      ZUN_OPT("placement_client", "region_name",
              c.placement_client.region_name),
      ZUN_OPT("placement_client", "endpoint_type",
              c.placement_client.endpoint_type),
      ZUN_OPT("placement_client", "endpoint_override",
              c.placement_client.endpoint_override),
      ZUN_OPT("placement_client", "ca_file", c.placement_client.ca_file),
      ZUN_OPT("placement_client", "cert_file", c.placement_client.cert_file),
      ZUN_OPT("placement_client", "key_file", c.placement_client.key_file),
      ZUN_OPT("placement_client", "insecure", c.placement_client.insecure),
      ZUN_OPT("placement_client", "timeout", c.placement_client.timeout),

      ZUN_OPT("neutron_client", "region_name", c.neutron_client.region_name),
      ZUN_OPT("neutron_client", "endpoint_type",
              c.neutron_client.endpoint_type),
      ZUN_OPT("neutron_client", "endpoint_override",
              c.neutron_client.endpoint_override),
      ZUN_OPT("neutron_client", "ca_file", c.neutron_client.ca_file),
      ZUN_OPT("neutron_client", "cert_file", c.neutron_client.cert_file),
      ZUN_OPT("neutron_client", "key_file", c.neutron_client.key_file),
      ZUN_OPT("neutron_client", "insecure", c.neutron_client.insecure),
      ZUN_OPT("neutron_client", "timeout", c.neutron_client.timeout),
      ZUN_OPT("network", "driver", c.network.driver),
      ZUN_OPT("neutron", "ovs_bridge", c.ovs_bridge),
      ZUN_OPT("cni_daemon", "cni_daemon_host", c.cni_daemon.cni_daemon_host),
      ZUN_OPT("cni_daemon", "cni_daemon_port", c.cni_daemon.cni_daemon_port),
      ZUN_OPT("cni_daemon", "vif_active_timeout",
              c.cni_daemon.vif_active_timeout),
      ZUN_OPT("cni_daemon", "state_dir", c.cni_daemon.state_dir),
      ZUN_OPT("cni_daemon", "neutron_poll_interval",
              c.cni_daemon.neutron_poll_interval),

      ZUN_OPT("oslo_messaging_rabbit", "heartbeat_timeout_threshold",
              c.rabbit.heartbeat_timeout_threshold),
      ZUN_OPT("oslo_messaging_rabbit", "rabbit_qos_prefetch_count",
              c.rabbit.rabbit_qos_prefetch_count),
      ZUN_OPT("oslo_messaging_rabbit", "amqp_durable_queues",
              c.rabbit.amqp_durable_queues),
      ZUN_OPT("oslo_messaging_rabbit", "amqp_auto_delete",
              c.rabbit.amqp_auto_delete),
      ZUN_OPT("oslo_messaging_rabbit", "rabbit_ha_queues",
              c.rabbit.rabbit_ha_queues),
      ZUN_OPT("oslo_messaging_rabbit", "rabbit_quorum_queue",
              c.rabbit.rabbit_quorum_queue),
      ZUN_OPT("oslo_messaging_rabbit", "rabbit_transient_queues_ttl",
              c.rabbit.rabbit_transient_queues_ttl),
      ZUN_OPT("oslo_messaging_rabbit", "ssl", c.rabbit.ssl),
      ZUN_OPT("oslo_messaging_rabbit", "ssl_ca_file", c.rabbit.ssl_ca_file),
      ZUN_OPT("oslo_messaging_rabbit", "ssl_cert_file", c.rabbit.ssl_cert_file),
      ZUN_OPT("oslo_messaging_rabbit", "ssl_key_file", c.rabbit.ssl_key_file),
      ZUN_OPT("oslo_messaging_rabbit", "rabbit_retry_interval",
              c.rabbit.rabbit_retry_interval),
      ZUN_OPT("oslo_messaging_rabbit", "rabbit_interval_max",
              c.rabbit.rabbit_interval_max),
      ZUN_OPT("oslo_messaging_rabbit", "kombu_missing_consumer_retry_timeout",
              c.rabbit.kombu_missing_consumer_retry_timeout),
      ZUN_OPT("oslo_messaging_rabbit", "max_message_bytes",
              c.rabbit.max_message_bytes),
      ZUN_IGNORED("oslo_messaging_rabbit", "rabbit_retry_backoff"),
      ZUN_IGNORED("oslo_messaging_rabbit", "rabbit_login_method"),
      ZUN_IGNORED("oslo_messaging_rabbit", "heartbeat_rate"),
      ZUN_IGNORED("oslo_messaging_rabbit", "kombu_reconnect_delay"),
      ZUN_IGNORED("oslo_messaging_rabbit", "ssl_version"),

      ZUN_OPT("volume", "volume_dir", c.volume.volume_dir),
      ZUN_IGNORED("volume", "driver_list"),
      ZUN_IGNORED("volume", "fstype"),
      ZUN_IGNORED("volume", "use_multipath"),
      ZUN_IGNORED("volume", "timeout_wait_volume_available"),
      ZUN_IGNORED("volume", "timeout_wait_volume_deleted"),
  };
  return *opts;
}

// Sections of zun.conf that belong to other services or other parts of
// zun-compute: skipped as a whole.
const std::set<std::string>& ForeignSections() {
  static const auto* s =
      new std::set<std::string>{"keystone_authtoken",
                                "api",
                                "docker",
                                "pci",
                                "cinder_client",
                                "glance",
                                "glance_client",
                                "oslo_concurrency",
                                "privsep",
                                "quota",
                                "scheduler",
                                "websocket_proxy",
                                "profiler",
                                "cors",
                                "healthcheck",
                                "ssl",
                                "oslo_policy",
                                "oslo_messaging_notifications",
                                "oslo_middleware",
                                "zun_client",
                                "availability_zone",
                                "image_driver",
                                "capsule",
                                "netconf",
                                "sandbox"};
  return *s;
}

// Sections shared with upstream's other services and drivers, of which the
// agent reads some options: the others are skipped.
const std::set<std::string>& LenientSections() {
  static const auto* s = new std::set<std::string>{
      "network", "neutron", "neutron_client", "cni_daemon"};
  return *s;
}

bool ParseBool(std::string v, bool* out) {
  v = absl::AsciiStrToLower(v);
  if (v == "true" || v == "yes" || v == "on" || v == "1") {
    *out = true;
    return true;
  }
  if (v == "false" || v == "no" || v == "off" || v == "0") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseSeconds(const std::string& v, absl::Duration* out) {
  double secs = 0;
  if (absl::SimpleAtod(v, &secs) && secs >= 0 && secs < 1e9) {
    *out = absl::Seconds(secs);
    return true;
  }
  absl::Duration d;
  if (absl::ParseDuration(v, &d) && d >= absl::ZeroDuration()) {
    *out = d;
    return true;
  }
  return false;
}

StringList ParseList(const std::string& v) {
  StringList out;
  for (absl::string_view item : absl::StrSplit(v, absl::ByAnyChar(",\n"))) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

bool ParseMap(const std::string& v, StringMap* out) {
  out->clear();
  for (const std::string& item : ParseList(v)) {
    size_t sep = item.find_first_of(":=");
    if (sep == std::string::npos) return false;
    std::string key(absl::StripAsciiWhitespace(item.substr(0, sep)));
    if (key.empty()) return false;
    (*out)[key] = std::string(absl::StripAsciiWhitespace(item.substr(sep + 1)));
  }
  return true;
}

// Sets `ref` from `value`; returns what is wrong, or "" when fine.
std::string Assign(const FieldRef& ref, const std::string& value) {
  return std::visit(
      [&](auto p) -> std::string {
        using T = decltype(p);
        if constexpr (std::is_same_v<T, Ignored>) {
          return "";
        } else {
          using V = std::remove_pointer_t<T>;
          if constexpr (std::is_same_v<V, std::string>) {
            *p = value;
          } else if constexpr (std::is_same_v<V, int>) {
            if (!absl::SimpleAtoi(value, p)) return "must be an integer";
          } else if constexpr (std::is_same_v<V, bool>) {
            if (!ParseBool(value, p)) return "must be true or false";
          } else if constexpr (std::is_same_v<V, absl::Duration>) {
            if (!ParseSeconds(value, p)) {
              return "must be a non-negative number of seconds";
            }
          } else if constexpr (std::is_same_v<V, double>) {
            if (!absl::SimpleAtod(value, p)) return "must be a number";
          } else if constexpr (std::is_same_v<V, OptDouble>) {
            double d = 0;
            if (absl::StripAsciiWhitespace(value).empty()) {
              p->reset();  // oslo.config: empty is unset
            } else if (!absl::SimpleAtod(value, &d) || d < 0) {
              return "must be a non-negative number";
            } else {
              *p = d;
            }
          } else if constexpr (std::is_same_v<V, StringList>) {
            *p = ParseList(value);
          } else if constexpr (std::is_same_v<V, StringMap>) {
            if (!ParseMap(value, p)) return "must be a list of key:value pairs";
          }
          return "";
        }
      },
      ref);
}

std::string Render(const FieldRef& ref) {
  return std::visit(
      [](auto p) -> std::string {
        using T = decltype(p);
        if constexpr (std::is_same_v<T, Ignored>) {
          return "";
        } else {
          using V = std::remove_pointer_t<T>;
          if constexpr (std::is_same_v<V, std::string>) return *p;
          if constexpr (std::is_same_v<V, int>) return std::to_string(*p);
          if constexpr (std::is_same_v<V, bool>) return *p ? "true" : "false";
          if constexpr (std::is_same_v<V, absl::Duration>) {
            return absl::StrCat(absl::ToDoubleSeconds(*p));
          }
          if constexpr (std::is_same_v<V, double>) return absl::StrCat(*p);
          if constexpr (std::is_same_v<V, OptDouble>) {
            return *p ? absl::StrCat(**p) : std::string("<unset>");
          }
          if constexpr (std::is_same_v<V, StringList>)
            return absl::StrJoin(*p, ",");
          if constexpr (std::is_same_v<V, StringMap>) {
            return absl::StrJoin(*p, ",", absl::PairFormatter(":"));
          }
        }
        return "";
      },
      ref);
}

std::string DefaultHostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

absl::StatusOr<AgentConfig> ParseConfig(const IniFile& ini) {
  AgentConfig cfg;
  std::map<std::pair<std::string, std::string>, const OptionDef*> by_key;
  std::set<std::string> owned;
  for (const OptionDef& o : Options()) {
    by_key[{o.section, o.name}] = &o;
    owned.insert(o.section);
  }
  for (const auto& [section, keys] : ini.sections()) {
    if (!owned.count(section)) {
      if (ForeignSections().count(section)) continue;
      return absl::InvalidArgumentError(
          absl::StrCat(ini.filename(), ": unknown section [", section, "]"));
    }
    for (const auto& [key, values] : keys) {
      auto it = by_key.find({section, key});
      if (it == by_key.end() && LenientSections().count(section)) continue;
      if (it == by_key.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(ini.filename(), ":", values.back().line, ": [",
                         section, "] ", key, ": unknown option"));
      }
      FieldRef ref = it->second->field(cfg);
      if (std::holds_alternative<Ignored>(ref)) continue;
      std::string err = Assign(ref, values.back().value);
      if (!err.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            ini.filename(), ":", values.back().line, ": [", section, "] ", key,
            ": '", values.back().value, "' ", err));
      }
    }
  }
  if (cfg.host.empty()) cfg.host = DefaultHostname();
  if (cfg.cni_daemon.state_dir.empty())
    cfg.cni_daemon.state_dir = cfg.state_path + "/cni";
  if (cfg.network.driver == "kuryr") cfg.network.driver = "local";
  if (cfg.volume.volume_dir.empty())
    cfg.volume.volume_dir = cfg.state_path + "/mnt";
  if (absl::Status s = ValidateConfig(cfg, ini.filename()); !s.ok()) return s;
  return cfg;
}

absl::StatusOr<AgentConfig> LoadConfig(const std::string& path) {
  absl::StatusOr<IniFile> ini = IniFile::Load(path);
  if (!ini.ok()) return ini.status();
  return ParseConfig(*ini);
}

absl::Status ValidateConfig(const AgentConfig& c, const std::string& file) {
  auto bad = [&](const char* section, const char* key, const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": [", section, "] ", key, ": ", why));
  };
  if (c.transport_url.empty()) {
    return bad("DEFAULT", "transport_url",
               "is required (rabbit://user:pass@host:5672/)");
  }
  if (c.database.connection.empty()) {
    return bad("database", "connection", "is required (postgresql://...)");
  }
  if (c.host.empty() || c.host.find_first_of(" \t/") != std::string::npos) {
    return bad("DEFAULT", "host", "must be a host name without spaces or '/'");
  }
  if (c.network.driver != "cni" && c.network.driver != "local") {
    return bad("network", "driver", "must be cni (Neutron ports) or local");
  }
  if (c.NeutronPorts() && !PlacementConfigured(c)) {
    return bad("network", "driver",
               "cni needs [keystone_auth] credentials for Neutron");
  }
  if (c.cni_daemon.cni_daemon_port < 1 ||
      c.cni_daemon.cni_daemon_port > 65535) {
    return bad("cni_daemon", "cni_daemon_port", "must be 1..65535");
  }
  if (c.cni_daemon.vif_active_timeout < absl::Seconds(1)) {
    return bad("cni_daemon", "vif_active_timeout", "must be at least 1 s");
  }
  if (c.compute.max_concurrent_operations < 1 ||
      c.compute.max_concurrent_operations > 10000) {
    return bad("compute", "max_concurrent_operations", "must be 1..10000");
  }
  if (c.database.max_pool_size < 1 || c.database.max_pool_size > 1000) {
    return bad("database", "max_pool_size", "must be 1..1000");
  }
  if (c.compute.reconcile_interval < absl::Milliseconds(100)) {
    return bad("compute", "reconcile_interval", "must be at least 0.1 s");
  }
  if (c.report_interval < absl::Seconds(1)) {
    return bad("DEFAULT", "report_interval", "must be at least 1 s");
  }
  if (c.rabbit.heartbeat_timeout_threshold < 0) {
    return bad("oslo_messaging_rabbit", "heartbeat_timeout_threshold",
               "must not be negative");
  }
  if (c.rabbit.rabbit_qos_prefetch_count < 0 ||
      c.rabbit.rabbit_qos_prefetch_count > 65535) {
    return bad("oslo_messaging_rabbit", "rabbit_qos_prefetch_count",
               "must be 0..65535");
  }
  if (c.rabbit.max_message_bytes < 1024) {
    return bad("oslo_messaging_rabbit", "max_message_bytes", "must be >= 1024");
  }
  if (!c.cri.runtime_handlers.count(c.container_runtime)) {
    return bad("DEFAULT", "container_runtime",
               absl::StrCat("'", c.container_runtime,
                            "' has no entry in [cri] runtime_handlers"));
  }
  for (const std::string& p : c.compute.host_path_allowlist) {
    if (p.empty() || p[0] != '/' || p.find("..") != std::string::npos) {
      return bad("compute", "host_path_allowlist",
                 absl::StrCat("'", p, "' is not a clean absolute path"));
    }
  }
  if (c.compute.pod_log_root.empty() || c.compute.pod_log_root[0] != '/') {
    return bad("compute", "pod_log_root", "must be an absolute path");
  }
  if (absl::Status s = ZunFernetKey(c.auth_encryption_key).status(); !s.ok()) {
    return bad("DEFAULT", "auth_encryption_key",
               "must be at least 32 one-byte characters (Zun uses the first "
               "32)");
  }
  const AgentConfig::KeystoneAuth& k = c.keystone_auth;
  if (!k.auth_type.empty() && k.auth_type != "password" &&
      k.auth_type != "v3password" && k.auth_type != "admin_token") {
    return bad("keystone_auth", "auth_type",
               absl::StrCat("'", k.auth_type,
                            "' is not supported (password, v3password or "
                            "admin_token)"));
  }
  if (PlacementConfigured(c)) {
    const bool token = k.auth_type == "admin_token";
    if (token && k.token.empty()) {
      return bad("keystone_auth", "token", "is required with admin_token");
    }
    if (!token && (k.username.empty() && k.user_id.empty())) {
      return bad("keystone_auth", "username", "is required with auth_url");
    }
    if (!token && k.password.empty()) {
      return bad("keystone_auth", "password", "is required with auth_url");
    }
    if (!token && k.project_name.empty() && k.project_id.empty()) {
      return bad("keystone_auth", "project_name",
                 "is required (a project-scoped token carries the catalog)");
    }
    if (!token && k.auth_url.find("/v2.0") != std::string::npos) {
      return bad("keystone_auth", "auth_url",
                 "Identity v2.0 is not supported; use v3");
    }
  }
  return absl::OkStatus();
}

bool PlacementConfigured(const AgentConfig& c) {
  if (c.keystone_auth.auth_type == "admin_token") return true;
  return !c.keystone_auth.auth_url.empty();
}

std::string DescribeConfig(const AgentConfig& config) {
  AgentConfig copy = config;
  std::ostringstream out;
  std::string section;
  for (const OptionDef& o : Options()) {
    FieldRef ref = o.field(copy);
    if (std::holds_alternative<Ignored>(ref)) continue;
    if (section != o.section) {
      section = o.section;
      out << "[" << section << "]\n";
    }
    std::string value = Render(ref);
    if (o.secret) value = log::RedactConnectionString(value);
    if (o.password && !value.empty()) value = "***";
    out << o.name << " = " << value << "\n";
  }
  return out.str();
}

rpc::AmqpTlsOptions AmqpTlsFrom(const AgentConfig& config) {
  rpc::AmqpTlsOptions tls;
  tls.enabled = config.rabbit.ssl;
  tls.ca_file = config.rabbit.ssl_ca_file;
  tls.cert_file = config.rabbit.ssl_cert_file;
  tls.key_file = config.rabbit.ssl_key_file;
  return tls;
}

}  // namespace zun::agent
