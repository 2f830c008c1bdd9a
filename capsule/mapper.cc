#include "capsule/mapper.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "capsule/labels.h"

namespace zun::capsule {
namespace {

// A DNS-1123 label from `name` (lowercase alphanumerics and '-', at most 63
// characters, starting and ending alphanumeric), or "" if nothing is left.
std::string Dns1123Label(const std::string& name) {
  std::string out;
  for (char ch : name) {
    char c = absl::ascii_tolower(static_cast<unsigned char>(ch));
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
    if (out.size() == 63) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// Log-directory safe form of a name: keeps [A-Za-z0-9._-], maps the rest to
// '_', never "." or "..".
std::string PathSafe(const std::string& s) {
  std::string out;
  for (char c : s) {
    out.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                          c == '.' || c == '-' || c == '_'
                      ? c
                      : '_');
  }
  if (out.empty() || out == "." || out == "..") return "_";
  return out.substr(0, 100);
}

std::optional<cri::SecurityProfile> SeccompFor(const std::string& spec,
                                               bool privileged) {
  cri::SecurityProfile p;
  if (privileged || spec == "unconfined") {
    p.type = cri::SecurityProfile::Type::kUnconfined;
  } else if (absl::StartsWith(spec, "localhost/")) {
    p.type = cri::SecurityProfile::Type::kLocalhost;
    p.localhost_ref = spec.substr(strlen("localhost/"));
  } else {
    p.type = cri::SecurityProfile::Type::kRuntimeDefault;
  }
  return p;
}

// Annotations are a JsonField (a dict of strings in practice); non-string
// values are kept as their JSON text.
cri::Labels JsonToStringMap(const nlohmann::json& j) {
  cri::Labels out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

bool AnyPrivileged(const Capsule& capsule) {
  if (capsule.record.privileged) return true;
  for (const auto* list : {&capsule.init_containers, &capsule.containers}) {
    for (const auto& c : *list) {
      if (c.privileged) return true;
    }
  }
  return false;
}

}  // namespace

std::string ContainerNameFor(const ContainerRecord& child) {
  if (child.name && !child.name->empty()) return *child.name;
  return child.uuid;
}

absl::StatusOr<std::string> RuntimeHandlerFor(const Capsule& capsule,
                                              const MapperOptions& opts) {
  std::string runtime = capsule.record.runtime.value_or("");
  if (runtime.empty()) runtime = opts.default_runtime;
  auto it = opts.runtime_handlers.find(runtime);
  if (it == opts.runtime_handlers.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "runtime '", runtime,
        "' is not configured on this host ([cri] runtime_handlers)"));
  }
  return it->second;
}

cri::Labels SandboxOwnerLabels(const std::string& host,
                               const std::string& capsule_uuid) {
  return {{std::string(kLabelManagedBy), std::string(kManagedByValue)},
          {std::string(kLabelHost), host},
          {std::string(kLabelCapsuleUuid), capsule_uuid}};
}

std::string LogDirectoryFor(const Capsule& capsule, const MapperOptions& opts) {
  return absl::StrCat(opts.log_root, "/", PathSafe(opts.sandbox_namespace), "_",
                      PathSafe(capsule.record.name.value_or("capsule")), "_",
                      PathSafe(capsule.uuid()));
}

std::string CgroupParentFor(const Capsule& capsule, const MapperOptions& opts) {
  if (opts.cgroup_root.empty()) return "";
  std::string root = opts.cgroup_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return absl::StrCat(root == "/" ? "" : root, "/pod", capsule.uuid());
}

cri::LinuxResources ToLinuxResources(const Resources& r,
                                     const MapperOptions& opts) {
  cri::LinuxResources out;
  if (r.cpu > 0) {
    out.cpu_shares = std::max<int64_t>(2, std::llround(r.cpu * 1024));
    out.cpu_period = opts.cpu_period_us;
    out.cpu_quota = std::max<int64_t>(
        1000, std::llround(r.cpu * static_cast<double>(opts.cpu_period_us)));
  }
  if (r.memory_mib > 0) out.memory_limit_in_bytes = r.memory_mib << 20;
  return out;
}

absl::StatusOr<cri::PodSandboxConfig> BuildSandboxConfig(
    const Capsule& capsule, const MapperOptions& opts, uint32_t attempt) {
  const ContainerRecord& rec = capsule.record;
  cri::PodSandboxConfig cfg;
  cfg.name = rec.uuid;  // zun-cni relies on K8S_POD_NAME being the uuid
  cfg.uid = rec.uuid;
  cfg.namespace_ = opts.sandbox_namespace;
  cfg.attempt = attempt;
  std::string hostname = Dns1123Label(rec.hostname.value_or(""));
  if (hostname.empty()) hostname = Dns1123Label(rec.name.value_or(""));
  if (hostname.empty()) hostname = Dns1123Label(rec.uuid);
  cfg.hostname = hostname;
  cfg.log_directory = LogDirectoryFor(capsule, opts);
  cfg.dns = opts.dns;
  for (const auto* list : {&capsule.init_containers, &capsule.containers}) {
    for (const ContainerRecord& c : *list) {
      if (!c.exposed_ports.is_object()) continue;
      for (const auto& [port, spec] : c.exposed_ports.items()) {
        (void)spec;
        std::pair<std::string, std::string> pp =
            absl::StrSplit(port, absl::MaxSplits('/', 1));
        int n = 0;
        if (!absl::SimpleAtoi(pp.first, &n)) continue;
        std::string proto = absl::AsciiStrToLower(pp.second);
        cri::PortMapping pm;
        pm.protocol = proto == "udp"    ? cri::Protocol::kUdp
                      : proto == "sctp" ? cri::Protocol::kSctp
                                        : cri::Protocol::kTcp;
        pm.container_port = n;
        cfg.port_mappings.push_back(pm);
      }
    }
  }
  cfg.labels = cri::Labels(rec.labels.begin(), rec.labels.end());
  cfg.annotations = JsonToStringMap(rec.annotations);
  for (auto& [k, v] : SandboxOwnerLabels(opts.host, rec.uuid)) {
    cfg.labels[k] = v;
  }
  cfg.cgroup_parent = CgroupParentFor(capsule, opts);
  cfg.sysctls = opts.sysctls;
  cfg.privileged = AnyPrivileged(capsule);
  cfg.seccomp = SeccompFor(opts.seccomp_profile, cfg.privileged);
  return cfg;
}

absl::StatusOr<cri::ContainerConfig> BuildContainerConfig(
    const Capsule& capsule, const ContainerRecord& child,
    const MapperOptions& opts, const std::string& image_ref, uint32_t attempt) {
  absl::StatusOr<Resources> res = ParseResources(child, opts);
  if (!res.ok()) return res.status();
  cri::ContainerConfig cfg;
  cfg.name = ContainerNameFor(child);
  cfg.attempt = attempt;
  cfg.image = image_ref.empty() ? child.image.value_or("") : image_ref;
  // Kubernetes semantics: an explicit entrypoint replaces the image
  // ENTRYPOINT and `command` becomes its arguments; otherwise Zun's command
  // (command + args merged by the API) replaces the ENTRYPOINT.
  if (!child.entrypoint.empty()) {
    cfg.command = child.entrypoint;
    cfg.args = child.command;
  } else {
    cfg.command = child.command;
  }
  cfg.working_dir = child.workdir.value_or("");
  for (const auto& [k, v] : child.environment) cfg.envs.emplace_back(k, v);
  for (const VolumeMount& v : child.volumes) {
    cri::Mount m;
    m.container_path = v.container_path;
    m.host_path = v.host_path;
    m.readonly = v.read_only;
    cfg.mounts.push_back(m);
  }
  cfg.labels = cri::Labels(child.labels.begin(), child.labels.end());
  cfg.annotations = JsonToStringMap(child.annotations);
  for (auto& [k, v] : SandboxOwnerLabels(opts.host, capsule.uuid())) {
    cfg.labels[k] = v;
  }
  cfg.labels[std::string(kLabelContainerUuid)] = child.uuid;
  cfg.labels[std::string(kLabelContainerType)] =
      std::string(child.container_type == ContainerType::kCapsuleInitContainer
                      ? kContainerTypeInit
                      : kContainerTypeRegular);
  cfg.log_path = absl::StrCat(PathSafe(cfg.name), "/", attempt, ".log");
  cfg.stdin_open = child.interactive;
  cfg.tty = child.tty;
  cfg.resources = ToLinuxResources(*res, opts);
  cfg.privileged = child.privileged;
  cfg.seccomp = SeccompFor(opts.seccomp_profile, child.privileged);
  return cfg;
}

}  // namespace zun::capsule
