#include "config/config.h"

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
#include "config/config_options.h"

namespace zun::config {
namespace {

using config_internal::FieldRef;
using config_internal::ForeignSections;
using config_internal::Ignored;
using config_internal::LenientSections;
using config_internal::OptDouble;
using config_internal::OptionDef;
using config_internal::Options;
using config_internal::StringList;
using config_internal::StringMap;

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

// zun-agent speaks PostgreSQL's protocol (libpq): Zun's MySQL deployments
// must move to PostgreSQL first. The URL is never echoed (credentials).
absl::Status CheckPostgresUrl(const std::string& url) {
  const size_t colon = url.find("://");
  if (colon == std::string::npos && url.find('=') != std::string::npos) {
    return absl::OkStatus();  // libpq's "host=... dbname=..." form
  }
  const std::string scheme = absl::AsciiStrToLower(
      url.substr(0, colon == std::string::npos ? 0 : colon));
  const std::string dialect = scheme.substr(0, scheme.find('+'));
  if (dialect == "postgresql" || dialect == "postgres") {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "PostgreSQL is required: zun-agent talks to Zun's database through "
      "libpq, PostgreSQL's protocol, and has no ",
      dialect.empty() ? "other" : absl::StrCat("'", dialect, "'"),
      " driver. Point it at the cloud's PostgreSQL (postgresql:// or "
      "postgresql+psycopg2://); a MySQL-backed Zun must migrate its database "
      "first"));
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
      if (ForeignSections().count(section)) {
        if (!keys.empty()) {
          cfg.unused.push_back(
              absl::StrCat("[", section, "] (", keys.size(),
                           keys.size() == 1 ? " option" : " options",
                           " of other services)"));
        }
        continue;
      }
      return absl::InvalidArgumentError(
          absl::StrCat(ini.filename(), ": unknown section [", section, "]"));
    }
    for (const auto& [key, values] : keys) {
      auto it = by_key.find({section, key});
      if (it == by_key.end() && LenientSections().count(section)) {
        cfg.unused.push_back(absl::StrCat("[", section, "] ", key));
        continue;
      }
      if (it == by_key.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(ini.filename(), ":", values.back().line, ": [",
                         section, "] ", key, ": unknown option"));
      }
      FieldRef ref = it->second->field(cfg);
      if (std::holds_alternative<Ignored>(ref)) {
        cfg.unused.push_back(absl::StrCat("[", section, "] ", key));
        continue;
      }
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
  if (absl::Status s = CheckPostgresUrl(c.database.connection); !s.ok()) {
    return bad("database", "connection", std::string(s.message()));
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
  if (!config.unused.empty()) {
    out << "\n# set in the file, not used by zun-agent:\n";
    for (const std::string& u : config.unused) out << "# " << u << "\n";
  }
  return out.str();
}

db::PgOptions PgOptionsFrom(const AgentConfig& c) {
  db::PgOptions o;
  o.connection = c.database.connection;
  o.pool_size = c.database.max_pool_size;
  o.acquire_timeout = c.database.pool_timeout;
  o.statement_timeout = c.database.statement_timeout;
  o.connect_timeout = c.database.connect_timeout;
  o.transaction_pooling = c.database.transaction_pooling;
  return o;
}

rpc::AmqpTlsOptions AmqpTlsFrom(const AgentConfig& config) {
  rpc::AmqpTlsOptions tls;
  tls.enabled = config.rabbit.ssl;
  tls.ca_file = config.rabbit.ssl_ca_file;
  tls.cert_file = config.rabbit.ssl_cert_file;
  tls.key_file = config.rabbit.ssl_key_file;
  return tls;
}

}  // namespace zun::config
