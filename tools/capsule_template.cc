#include "tools/capsule_template.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/uuid.h"
#include "yaml-cpp/yaml.h"

namespace zun::tools {
namespace {

using capsule::Capsule;
using capsule::ContainerRecord;

absl::Status Bad(const std::string& path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", AV(what)));
}

// Rejects keys outside `allowed` (and duplicate keys).
absl::Status CheckKeys(const YAML::Node& n, const std::string& path,
                       const std::set<std::string>& allowed) {
  if (!n.IsMap()) return Bad(path, "expected a mapping");
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) return Bad(path, "keys must be strings");
    const std::string& key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      return Bad(absl::StrCat(path, ".", key), "duplicate key");
    }
    if (allowed.count(key) == 0) {
      return Bad(absl::StrCat(path, ".", key),
                 absl::StrCat("unknown field (expected one of: ",
                              absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Str(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return Bad(path, "expected a string");
  const std::string& s = n.Scalar();
  if (s.find('\0') != std::string::npos) return Bad(path, "contains NUL");
  return s;
}

absl::StatusOr<bool> Bool(const YAML::Node& n, const std::string& path) {
  if (n.IsScalar()) {
    const std::string v = absl::AsciiStrToLower(n.Scalar());
    if (v == "true") return true;
    if (v == "false") return false;
  }
  return Bad(path, "expected true or false");
}

absl::StatusOr<std::vector<std::string>> StrList(const YAML::Node& n,
                                                 const std::string& path) {
  if (n.IsScalar()) {
    // Zun accepts a single string for command (split by the client).
    return std::vector<std::string>{n.Scalar()};
  }
  if (!n.IsSequence()) return Bad(path, "expected a list of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < n.size(); ++i) {
    ZUN_ASSIGN_OR_RETURN(std::string s,
                         Str(n[i], absl::StrCat(path, "[", i, "]")));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<capsule::StringMap> StrMap(const YAML::Node& n,
                                          const std::string& path) {
  if (!n.IsMap()) return Bad(path, "expected a mapping of strings");
  capsule::StringMap out;
  for (const auto& kv : n) {
    ZUN_ASSIGN_OR_RETURN(std::string k, Str(kv.first, path));
    ZUN_ASSIGN_OR_RETURN(std::string v, Str(kv.second, path + "." + k));
    if (!out.emplace(k, v).second) return Bad(path + "." + k, "duplicate key");
  }
  return out;
}

absl::Status CheckEnvName(const std::string& name, const std::string& path) {
  if (name.empty()) return Bad(path, "empty variable name");
  for (char c : name) {
    if (c == '=' || c == '\0' || absl::ascii_iscntrl(c)) {
      return Bad(path, absl::StrCat("bad variable name '", name, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<capsule::StringMap> Env(const YAML::Node& n,
                                       const std::string& path) {
  capsule::StringMap out;
  if (n.IsMap()) {
    ZUN_ASSIGN_OR_RETURN(out, StrMap(n, path));
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string p = absl::StrCat(path, "[", i, "]");
      ZUN_RETURN_IF_ERROR(CheckKeys(n[i], p, {"name", "value"}));
      if (!n[i]["name"]) return Bad(p, "name is required");
      ZUN_ASSIGN_OR_RETURN(std::string k, Str(n[i]["name"], p + ".name"));
      std::string v;
      if (n[i]["value"]) {
        ZUN_ASSIGN_OR_RETURN(v, Str(n[i]["value"], p + ".value"));
      }
      if (!out.emplace(k, v).second) return Bad(p, "duplicate variable");
    }
  } else {
    return Bad(path, "expected a mapping or a list of {name, value}");
  }
  for (const auto& [k, v] : out) {
    ZUN_RETURN_IF_ERROR(CheckEnvName(k, path));
    if (v.find('\0') != std::string::npos) {
      return Bad(path + "." + k, "value contains NUL");
    }
  }
  return out;
}

// The template's restart policy name mapped to Zun's.
absl::StatusOr<std::string> PolicyName(const std::string& v,
                                       const std::string& path) {
  static const auto* names = new std::map<std::string, std::string>{
      {"Always", "always"},
      {"OnFailure", "on-failure"},
      {"Never", "no"},
      // Zun's own names, as the deprecated restart_policy gives them.
      {"always", "always"},
      {"on-failure", "on-failure"},
      {"no", "no"}};
  auto it = names->find(v);
  if (it == names->end()) {
    return Bad(path, absl::StrCat("unknown restart policy '", v,
                                  "' (Always, OnFailure or Never)"));
  }
  return it->second;
}

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 63 || !absl::ascii_isalnum(s[0])) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

struct ChildResult {
  ContainerRecord row;
  std::vector<std::pair<std::string, TemplateVolume::Mount>> mounts;
  double cpu = 0;
  int64_t memory = 0;
};

absl::StatusOr<ChildResult> ParseContainer(const YAML::Node& n,
                                           const std::string& path,
                                           const std::string& capsule_label,
                                           size_t index) {
  ZUN_RETURN_IF_ERROR(CheckKeys(
      n, path,
      {"name", "image", "command", "args", "env", "workDir", "ports",
       "resources", "volumeMounts", "stdin", "tty", "imagePullPolicy"}));
  ChildResult out;
  ContainerRecord& r = out.row;
  r.uuid = NewUuid4();
  r.status = "Creating";
  if (!n["image"]) return Bad(path + ".image", "is required");
  ZUN_ASSIGN_OR_RETURN(std::string image, Str(n["image"], path + ".image"));
  if (image.empty() || absl::StripAsciiWhitespace(image).size() != image.size())
    return Bad(path + ".image", "must be a non-empty image reference");
  r.image = image;
  std::string name = absl::StrCat("c", index);
  if (n["name"]) {
    ZUN_ASSIGN_OR_RETURN(name, Str(n["name"], path + ".name"));
    if (!ValidName(name)) {
      return Bad(path + ".name",
                 "must be 1-63 letters, digits, '-', '_' or '.', starting "
                 "with a letter or digit");
    }
  }
  r.name = absl::StrCat("capsule-", capsule_label, "-", name);
  if (n["command"]) {
    ZUN_ASSIGN_OR_RETURN(r.command, StrList(n["command"], path + ".command"));
  }
  if (n["args"]) {
    ZUN_ASSIGN_OR_RETURN(std::vector<std::string> args,
                         StrList(n["args"], path + ".args"));
    r.command.insert(r.command.end(), args.begin(), args.end());
  }
  if (n["env"]) {
    ZUN_ASSIGN_OR_RETURN(r.environment, Env(n["env"], path + ".env"));
  }
  if (n["workDir"]) {
    ZUN_ASSIGN_OR_RETURN(std::string wd, Str(n["workDir"], path + ".workDir"));
    if (!wd.empty() && wd[0] != '/') {
      return Bad(path + ".workDir", "must be an absolute path");
    }
    r.workdir = wd;
  }
  if (n["stdin"]) {
    ZUN_ASSIGN_OR_RETURN(r.interactive, Bool(n["stdin"], path + ".stdin"));
  }
  if (n["tty"]) {
    ZUN_ASSIGN_OR_RETURN(r.tty, Bool(n["tty"], path + ".tty"));
  }
  std::string pull = "always";
  if (n["imagePullPolicy"]) {
    ZUN_ASSIGN_OR_RETURN(pull,
                         Str(n["imagePullPolicy"], path + ".imagePullPolicy"));
    pull = absl::AsciiStrToLower(pull);
    if (pull != "always" && pull != "ifnotpresent" && pull != "never") {
      return Bad(path + ".imagePullPolicy",
                 "expected Always, IfNotPresent or Never");
    }
  }
  r.image_pull_policy = pull;
  if (n["ports"]) {
    const YAML::Node& ports = n["ports"];
    if (!ports.IsSequence()) return Bad(path + ".ports", "expected a list");
    r.exposed_ports = nlohmann::json::object();
    for (size_t i = 0; i < ports.size(); ++i) {
      const std::string p = absl::StrCat(path, ".ports[", i, "]");
      ZUN_RETURN_IF_ERROR(
          CheckKeys(ports[i], p, {"containerPort", "protocol", "name"}));
      int port = 0;
      if (!ports[i]["containerPort"] || !ports[i]["containerPort"].IsScalar() ||
          !absl::SimpleAtoi(ports[i]["containerPort"].Scalar(), &port) ||
          port < 1 || port > 65535) {
        return Bad(p + ".containerPort", "expected a port number 1-65535");
      }
      std::string proto = "tcp";
      if (ports[i]["protocol"]) {
        ZUN_ASSIGN_OR_RETURN(proto, Str(ports[i]["protocol"], p + ".protocol"));
        proto = absl::AsciiStrToLower(proto);
        if (proto != "tcp" && proto != "udp" && proto != "sctp") {
          return Bad(p + ".protocol", "expected TCP, UDP or SCTP");
        }
      }
      r.exposed_ports[absl::StrCat(port, "/", proto)] =
          nlohmann::json::object();
    }
  }
  if (n["resources"]) {
    const std::string rp = path + ".resources";
    ZUN_RETURN_IF_ERROR(CheckKeys(n["resources"], rp, {"requests"}));
    const YAML::Node& req = n["resources"]["requests"];
    if (req) {
      ZUN_RETURN_IF_ERROR(CheckKeys(req, rp + ".requests", {"cpu", "memory"}));
      if (req["cpu"]) {
        ZUN_ASSIGN_OR_RETURN(std::string v,
                             Str(req["cpu"], rp + ".requests.cpu"));
        absl::StatusOr<double> cpu = ParseCpu(v);
        if (!cpu.ok())
          return Bad(rp + ".requests.cpu", SV(cpu.status().message()));
        r.cpu = out.cpu = *cpu;
      }
      if (req["memory"]) {
        ZUN_ASSIGN_OR_RETURN(std::string v,
                             Str(req["memory"], rp + ".requests.memory"));
        absl::StatusOr<int64_t> mem = ParseMemoryMiB(v);
        if (!mem.ok()) {
          return Bad(rp + ".requests.memory", SV(mem.status().message()));
        }
        out.memory = *mem;
        r.memory = std::to_string(*mem);
      }
    }
  }
  if (n["volumeMounts"]) {
    const YAML::Node& vms = n["volumeMounts"];
    if (!vms.IsSequence())
      return Bad(path + ".volumeMounts", "expected a list");
    for (size_t i = 0; i < vms.size(); ++i) {
      const std::string p = absl::StrCat(path, ".volumeMounts[", i, "]");
      ZUN_RETURN_IF_ERROR(
          CheckKeys(vms[i], p, {"name", "mountPath", "readOnly"}));
      if (!vms[i]["name"] || !vms[i]["mountPath"]) {
        return Bad(p, "name and mountPath are required");
      }
      ZUN_ASSIGN_OR_RETURN(std::string vname, Str(vms[i]["name"], p + ".name"));
      TemplateVolume::Mount m;
      m.container_uuid = r.uuid;
      ZUN_ASSIGN_OR_RETURN(m.mount_path,
                           Str(vms[i]["mountPath"], p + ".mountPath"));
      if (m.mount_path.empty() || m.mount_path[0] != '/' ||
          m.mount_path.find("..") != std::string::npos) {
        return Bad(p + ".mountPath", "must be an absolute path without '..'");
      }
      if (vms[i]["readOnly"]) {
        ZUN_ASSIGN_OR_RETURN(m.read_only,
                             Bool(vms[i]["readOnly"], p + ".readOnly"));
      }
      out.mounts.emplace_back(vname, std::move(m));
    }
  }
  return out;
}

absl::StatusOr<CapsuleRequest> Build(const YAML::Node& root,
                                     const TemplateOptions& options) {
  ZUN_RETURN_IF_ERROR(
      CheckKeys(root, "template",
                {"kind", "apiVersion", "capsuleVersion", "metadata", "spec",
                 "restart_policy", "availabilityZone"}));
  if (!root["kind"]) return Bad("kind", "is required (capsule)");
  ZUN_ASSIGN_OR_RETURN(std::string kind, Str(root["kind"], "kind"));
  if (kind != "capsule" && kind != "Capsule") {
    return Bad("kind", absl::StrCat("must be capsule, not '", kind, "'"));
  }
  CapsuleRequest out;
  ContainerRecord& cap = out.capsule.record;
  cap.uuid = NewUuid4();
  cap.status = "Creating";
  cap.project_id = options.project_id;
  cap.user_id = options.user_id;
  cap.image = options.sandbox_image;
  cap.image_driver = options.sandbox_image_driver;
  if (const YAML::Node& md = root["metadata"]) {
    ZUN_RETURN_IF_ERROR(
        CheckKeys(md, "metadata", {"name", "labels", "annotations"}));
    if (md["name"]) {
      ZUN_ASSIGN_OR_RETURN(std::string name, Str(md["name"], "metadata.name"));
      if (!ValidName(name)) {
        return Bad("metadata.name",
                   "must be 1-63 letters, digits, '-', '_' or '.', starting "
                   "with a letter or digit");
      }
      cap.name = name;
    }
    if (md["labels"]) {
      ZUN_ASSIGN_OR_RETURN(cap.labels, StrMap(md["labels"], "metadata.labels"));
    }
    if (md["annotations"]) {
      ZUN_ASSIGN_OR_RETURN(capsule::StringMap a,
                           StrMap(md["annotations"], "metadata.annotations"));
      cap.annotations = a;
    }
  }
  if (root["availabilityZone"]) {
    ZUN_ASSIGN_OR_RETURN(out.availability_zone,
                         Str(root["availabilityZone"], "availabilityZone"));
  }
  if (!root["spec"]) return Bad("spec", "is required");
  const YAML::Node& spec = root["spec"];
  ZUN_RETURN_IF_ERROR(
      CheckKeys(spec, "spec",
                {"containers", "initContainers", "restartPolicy", "volumes"}));
  std::string policy = "always";
  if (root["restart_policy"]) {
    ZUN_ASSIGN_OR_RETURN(std::string v,
                         Str(root["restart_policy"], "restart_policy"));
    ZUN_ASSIGN_OR_RETURN(policy, PolicyName(v, "restart_policy"));
  }
  if (spec["restartPolicy"]) {
    ZUN_ASSIGN_OR_RETURN(std::string v,
                         Str(spec["restartPolicy"], "spec.restartPolicy"));
    ZUN_ASSIGN_OR_RETURN(policy, PolicyName(v, "spec.restartPolicy"));
  }
  cap.restart_policy = {{"MaximumRetryCount", "0"}, {"Name", policy}};
  const capsule::StringMap init_policy =
      policy == "always" ? capsule::StringMap{{"MaximumRetryCount", "10"},
                                              {"Name", "on-failure"}}
                         : cap.restart_policy;
  const std::string label = cap.name.value_or(cap.uuid);

  if (!spec["containers"] || !spec["containers"].IsSequence() ||
      spec["containers"].size() == 0) {
    return Bad("spec.containers", "is required: a non-empty list");
  }
  std::set<std::string> names;
  std::vector<std::pair<std::string, TemplateVolume::Mount>> mounts;
  double cpu_sum = 0, cpu_init = 0;
  int64_t mem_sum = 0, mem_init = 0;
  for (const char* key : {"initContainers", "containers"}) {
    const bool init = std::string_view(key) == "initContainers";
    const YAML::Node& list = spec[key];
    if (!list) continue;
    if (!list.IsSequence())
      return Bad(absl::StrCat("spec.", key), "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = absl::StrCat("spec.", key, "[", i, "]");
      ZUN_ASSIGN_OR_RETURN(ChildResult child,
                           ParseContainer(list[i], path, label, names.size()));
      if (!names.insert(*child.row.name).second) {
        return Bad(path + ".name", "duplicate container name");
      }
      child.row.restart_policy = init ? init_policy : cap.restart_policy;
      if (init) {
        cpu_init = std::max(cpu_init, child.cpu);
        mem_init = std::max(mem_init, child.memory);
        out.capsule.init_containers.push_back(std::move(child.row));
      } else {
        cpu_sum += child.cpu;
        mem_sum += child.memory;
        out.capsule.containers.push_back(std::move(child.row));
      }
      for (auto& m : child.mounts) mounts.push_back(std::move(m));
    }
  }
  const double cpu = std::max(cpu_sum, cpu_init);
  if (cpu > 0) cap.cpu = cpu;
  cap.memory = std::to_string(std::max(mem_sum, mem_init));

  std::map<std::string, size_t> volume_index;
  if (const YAML::Node& vols = spec["volumes"]) {
    if (!vols.IsSequence()) return Bad("spec.volumes", "expected a list");
    for (size_t i = 0; i < vols.size(); ++i) {
      const std::string p = absl::StrCat("spec.volumes[", i, "]");
      ZUN_RETURN_IF_ERROR(
          CheckKeys(vols[i], p, {"name", "emptyDir", "cinder"}));
      if (!vols[i]["name"]) return Bad(p + ".name", "is required");
      ZUN_ASSIGN_OR_RETURN(std::string name, Str(vols[i]["name"], p + ".name"));
      if (vols[i]["cinder"]) {
        return absl::UnimplementedError(absl::StrCat(
            p,
            ".cinder: Cinder volumes need the Zun API; zun-capsule "
            "creates local (emptyDir) volumes only"));
      }
      if (!vols[i]["emptyDir"]) return Bad(p, "emptyDir is required");
      if (!volume_index.emplace(name, out.volumes.size()).second) {
        return Bad(p + ".name", "duplicate volume name");
      }
      out.volumes.push_back(TemplateVolume{name, {}});
    }
  }
  for (auto& [name, m] : mounts) {
    auto it = volume_index.find(name);
    if (it == volume_index.end()) {
      return Bad("spec", absl::StrCat("volumeMounts name the unknown volume '",
                                      name, "'"));
    }
    out.volumes[it->second].mounts.push_back(std::move(m));
  }
  return out;
}

}  // namespace

absl::StatusOr<double> ParseCpu(std::string_view v) {
  std::string s(absl::StripAsciiWhitespace(AV(v)));
  double scale = 1;
  if (!s.empty() && s.back() == 'm') {
    s.pop_back();
    scale = 0.001;
  }
  double d = 0;
  if (s.empty() || !absl::SimpleAtod(s, &d) || !std::isfinite(d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", AV(v), "' is not a CPU amount (e.g. 0.5 or 500m)"));
  }
  d *= scale;
  if (d <= 0 || d > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("CPU ", AV(v), " is out of range (0, 1024]"));
  }
  return d;
}

absl::StatusOr<int64_t> ParseMemoryMiB(std::string_view v) {
  static const auto* units = new std::vector<std::pair<std::string, double>>{
      {"Ki", 1.0 / 1024},   {"Mi", 1},
      {"Gi", 1024},         {"Ti", 1024.0 * 1024},
      {"k", 1e3 / 1048576}, {"K", 1e3 / 1048576},
      {"M", 1e6 / 1048576}, {"G", 1e9 / 1048576},
      {"T", 1e12 / 1048576}};
  std::string s(absl::StripAsciiWhitespace(AV(v)));
  double scale = 1;  // plain numbers are MiB
  for (const auto& [suffix, factor] : *units) {
    if (s.size() > suffix.size() &&
        s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
      s.resize(s.size() - suffix.size());
      scale = factor;
      break;
    }
  }
  double d = 0;
  if (s.empty() || !absl::SimpleAtod(s, &d) || !std::isfinite(d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", AV(v), "' is not a memory size (MiB, or e.g. 512Mi, 1Gi)"));
  }
  const double mib = std::ceil(d * scale);
  if (mib < 4 || mib > 16.0 * 1024 * 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory ", AV(v), " is out of range (4 MiB to 16 TiB)"));
  }
  return static_cast<int64_t>(mib);
}

absl::StatusOr<CapsuleRequest> CapsuleFromTemplate(
    std::string_view text, const TemplateOptions& options) {
  if (text.size() > kMaxTemplateBytes) {
    return absl::InvalidArgumentError("template is larger than 1 MiB");
  }
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          "template: expected a mapping (YAML or JSON object)");
    }
    return Build(root, options);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("template is not valid YAML/JSON: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("template cannot be read: ", e.what()));
  }
}

}  // namespace zun::tools
