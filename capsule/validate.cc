// Validation of capsules before anything reaches the runtime (mapper.h).
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "capsule/mapper.h"
#include "common/strings.h"

namespace zun::capsule {
namespace {

std::string Who(const ContainerRecord& c) {
  return absl::StrCat("container '", ContainerNameFor(c), "'");
}

absl::Status Invalid(const ContainerRecord& c, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Who(c), ": ", AV(what)));
}

bool HasNul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

// True if `path` is absolute, normalised (no "." / ".." / "//" parts) and
// free of NUL.
bool IsCleanAbsolutePath(const std::string& path) {
  if (path.empty() || path[0] != '/' || HasNul(path)) return false;
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part == "." || part == "..") return false;
    if (part.empty() && path.size() > 1 && path.back() != '/') return false;
  }
  return true;
}

bool UnderAllowlist(const std::string& path,
                    const std::vector<std::string>& allow) {
  for (const std::string& root : allow) {
    std::string r = root;
    while (r.size() > 1 && r.back() == '/') r.pop_back();
    if (path == r || absl::StartsWith(path, r == "/" ? "/" : r + "/")) {
      return true;
    }
  }
  return false;
}

absl::Status ValidateChild(const Capsule& capsule, const ContainerRecord& c,
                           const MapperOptions& opts) {
  const std::string image =
      std::string(absl::StripAsciiWhitespace(c.image.value_or("")));
  if (image.empty()) return Invalid(c, "image is empty");
  if (HasNul(image) || absl::StrContains(image, " ")) {
    return Invalid(
        c, absl::StrCat("image '", image, "' is not a valid reference"));
  }
  absl::StatusOr<Resources> r = ParseResources(c, opts);
  if (!r.ok()) return r.status();
  for (const auto& [k, v] : c.environment) {
    if (k.empty())
      return Invalid(c, "an environment variable has an empty name");
    if (absl::StrContains(k, "=") || HasNul(k)) {
      return Invalid(
          c, absl::StrCat("environment variable name '", absl::CEscape(k),
                          "' must not contain '=' or NUL"));
    }
    if (HasNul(v)) {
      return Invalid(c, absl::StrCat("environment variable '", k,
                                     "' has a NUL byte in its value"));
    }
  }
  for (const auto& arg : c.command) {
    if (HasNul(arg)) return Invalid(c, "command has a NUL byte");
  }
  for (const auto& arg : c.entrypoint) {
    if (HasNul(arg)) return Invalid(c, "entrypoint has a NUL byte");
  }
  if (c.workdir && !c.workdir->empty() && !IsCleanAbsolutePath(*c.workdir)) {
    return Invalid(c, absl::StrCat("workdir '", absl::CEscape(*c.workdir),
                                   "' must be a clean absolute path"));
  }
  if ((c.privileged || capsule.record.privileged) && !opts.allow_privileged) {
    return Invalid(c,
                   "privileged containers are not allowed on this host "
                   "([compute] allow_privileged = false)");
  }
  if (c.image_pull_policy && !c.image_pull_policy->empty()) {
    std::string p = absl::AsciiStrToLower(*c.image_pull_policy);
    if (p != "always" && p != "ifnotpresent" && p != "never") {
      return Invalid(c,
                     absl::StrCat("image_pull_policy '", *c.image_pull_policy,
                                  "' is not one of always, ifnotpresent, "
                                  "never"));
    }
  }
  std::set<std::string> mount_paths;
  for (const VolumeMount& v : c.volumes) {
    if (!IsCleanAbsolutePath(v.container_path)) {
      return Invalid(
          c, absl::StrCat("mount path '", absl::CEscape(v.container_path),
                          "' must be a clean absolute path"));
    }
    if (!mount_paths.insert(v.container_path).second) {
      return Invalid(
          c, absl::StrCat("two volumes mount at '", v.container_path, "'"));
    }
    if (!IsCleanAbsolutePath(v.host_path) ||
        absl::StrContains(v.host_path, "..")) {
      return Invalid(
          c, absl::StrCat("volume host path '", absl::CEscape(v.host_path),
                          "' must be a clean absolute path"));
    }
    if (!UnderAllowlist(v.host_path, opts.host_path_allowlist)) {
      return Invalid(c, absl::StrCat("volume host path '", v.host_path,
                                     "' is outside the allowed host paths "
                                     "([compute] host_path_allowlist)"));
    }
  }
  const nlohmann::json no_ports = nlohmann::json::object();
  const nlohmann::json& ports =
      c.exposed_ports.is_object() ? c.exposed_ports : no_ports;
  for (const auto& [port, spec] : ports.items()) {
    (void)spec;
    std::pair<std::string, std::string> pp =
        absl::StrSplit(port, absl::MaxSplits('/', 1));
    int n = 0;
    if (!absl::SimpleAtoi(pp.first, &n) || n < 1 || n > 65535) {
      return Invalid(
          c, absl::StrCat("exposed port '", port, "' is not a port number"));
    }
    std::string proto = absl::AsciiStrToLower(pp.second);
    if (!proto.empty() && proto != "tcp" && proto != "udp" && proto != "sctp") {
      return Invalid(
          c, absl::StrCat("exposed port '", port, "' has an unknown protocol"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRestartPolicy(const ContainerRecord& c) {
  auto name = c.restart_policy.find("Name");
  if (name != c.restart_policy.end() && !name->second.empty()) {
    const std::string& n = name->second;
    if (n != "no" && n != "always" && n != "on-failure" &&
        n != "unless-stopped") {
      return absl::InvalidArgumentError(absl::StrCat(
          "restart policy '", n,
          "' is not one of no, always, on-failure, unless-stopped"));
    }
  }
  auto max = c.restart_policy.find("MaximumRetryCount");
  if (max != c.restart_policy.end() && !max->second.empty()) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(max->second, &n) || n < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("restart policy MaximumRetryCount '", max->second,
                       "' is not a non-negative integer"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Resources> ParseResources(const ContainerRecord& c,
                                         const MapperOptions& opts) {
  Resources r;
  if (c.cpu) {
    if (!std::isfinite(*c.cpu) || *c.cpu < 0 || *c.cpu > opts.max_cpu) {
      return Invalid(c, absl::StrCat("cpu ", *c.cpu, " is not between 0 and ",
                                     opts.max_cpu, " vCPUs"));
    }
    r.cpu = *c.cpu;
  }
  if (c.memory && !c.memory->empty()) {
    std::string m(absl::StripAsciiWhitespace(*c.memory));
    int64_t mib = 0;
    if (!absl::SimpleAtoi(m, &mib) || mib < 0) {
      return Invalid(c, absl::StrCat("memory '", absl::CEscape(*c.memory),
                                     "' is not a non-negative number of MiB"));
    }
    if (mib > opts.max_memory_mib) {
      return Invalid(
          c, absl::StrCat("memory ", mib, " MiB exceeds the maximum of ",
                          opts.max_memory_mib, " MiB"));
    }
    r.memory_mib = mib;
  }
  return r;
}

absl::Status ValidateCapsule(const Capsule& capsule,
                             const MapperOptions& opts) {
  const ContainerRecord& rec = capsule.record;
  if (rec.container_type != ContainerType::kCapsule) {
    return absl::InvalidArgumentError("not a capsule row");
  }
  if (capsule.containers.empty()) {
    return absl::InvalidArgumentError("capsule has no containers");
  }
  if (absl::StatusOr<std::string> h = RuntimeHandlerFor(capsule, opts);
      !h.ok()) {
    return h.status();
  }
  if (absl::Status s = ValidateRestartPolicy(rec); !s.ok()) return s;
  std::set<std::string> names;
  for (const auto* list : {&capsule.init_containers, &capsule.containers}) {
    for (const ContainerRecord& c : *list) {
      if (!names.insert(ContainerNameFor(c)).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "two containers are named '", ContainerNameFor(c), "'"));
      }
      if (absl::Status s = ValidateChild(capsule, c, opts); !s.ok()) return s;
      if (absl::Status s = ValidateRestartPolicy(c); !s.ok()) {
        return Invalid(c, SV(s.message()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace zun::capsule
