#include "tools/capsule_template.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/uuid.h"
#include "tools/capsule_schema.h"
#include "tools/py_value.h"
#include "tools/template_loader.h"

namespace zun::tools {
namespace {

using capsule::ContainerRecord;
using Json = TemplateJson;

const Json* Find(const Json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const Json& ListOr(const Json& object, const std::string& key) {
  static const Json* const kEmpty = new Json(Json::array());
  const Json* list = Find(object, key);
  return list != nullptr && list->is_array() ? *list : *kEmpty;
}

// A string the schema allows to end in "\n" (Python's `$`), for a name.
std::string NamePart(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Zun's boolean: true, 'True' or 'true'.
bool IsTrue(const Json* v) {
  return v != nullptr && (*v == true || *v == "True" || *v == "true");
}

struct Child {
  ContainerRecord row;
  double cpu = 0;
  int64_t memory = 0;
};

Child ParseContainer(const Json& c, const std::string& capsule_label,
                     std::set<std::string>* names) {
  Child out;
  ContainerRecord& r = out.row;
  r.uuid = NewUuid4();
  r.status = "Creating";
  r.image = c.at("image").get<std::string>();
  std::string name = absl::StrCat("c", names->size());
  if (const Json* n = Find(c, "name"); n != nullptr && n->is_string()) {
    name = NamePart(n->get<std::string>());
  }
  std::string full = absl::StrCat("capsule-", capsule_label, "-", name);
  for (int k = 2; !names->insert(full).second; ++k) {
    full = absl::StrCat("capsule-", capsule_label, "-", name, "-", k);
  }
  r.name = full;
  for (const char* key : {"command", "args"}) {
    for (const Json& word : ListOr(c, key)) {
      r.command.push_back(word.get<std::string>());
    }
  }
  if (const Json* env = Find(c, "env"); env != nullptr && env->is_object()) {
    for (const auto& [k, v] : env->items()) r.environment[k] = PyStr(v);
  }
  if (const Json* wd = Find(c, "workDir"); wd != nullptr && wd->is_string()) {
    r.workdir = wd->get<std::string>();
  }
  r.interactive = IsTrue(Find(c, "stdin"));
  r.tty = IsTrue(Find(c, "tty"));
  r.image_pull_policy = "always";
  if (const Json* p = Find(c, "imagePullPolicy"); p && p->is_string()) {
    r.image_pull_policy = absl::AsciiStrToLower(p->get<std::string>());
  }
  if (const Json* ports = Find(c, "ports")) {
    r.exposed_ports = nlohmann::json::object();
    for (const Json& p : *ports) {
      const Json* proto = Find(p, "protocol");
      r.exposed_ports[absl::StrCat(
          PyStr(p.at("containerPort")), "/",
          proto ? absl::AsciiStrToLower(proto->get<std::string>()) : "tcp")] =
          nlohmann::json::object();
    }
  }
  // The API reads requests only when resources is not empty, and skips
  // null values.
  if (const Json* res = Find(c, "resources"); res && !res->empty()) {
    const Json& req = res->at("requests");
    if (const Json* cpu = Find(req, "cpu"); cpu && cpu->is_number()) {
      r.cpu = out.cpu = cpu->get<double>();
    }
    if (const Json* mem = Find(req, "memory"); mem && mem->is_number()) {
      out.memory = mem->get<int64_t>();
      r.memory = std::to_string(out.memory);
    }
  }
  return out;
}

absl::StatusOr<CapsuleRequest> Build(const Json& t,
                                     const TemplateOptions& options) {
  const Json& spec = t.at("spec");
  const Json& volumes = ListOr(spec, "volumes");
  if (!volumes.empty()) {
    return absl::UnimplementedError(absl::StrCat(
        "spec.volumes[0] (",
        PyReprString(volumes[0].at("name").get<std::string>()),
        "): Cinder volumes need Cinder, which zun-capsule does not drive; "
        "create this capsule through the Zun API, or leave the volumes out"));
  }
  CapsuleRequest out;
  ContainerRecord& cap = out.capsule.record;
  cap.uuid = NewUuid4();
  cap.status = "Creating";
  cap.project_id = options.project_id;
  cap.user_id = options.user_id;
  cap.image = options.sandbox_image;
  cap.image_driver = options.sandbox_image_driver;
  const Json& md = t.at("metadata");
  if (const Json* name = Find(md, "name"); name && name->is_string()) {
    cap.name = name->get<std::string>();
  }
  if (const Json* labels = Find(md, "labels"); labels && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) cap.labels[k] = PyStr(v);
  }
  if (const Json* a = Find(md, "annotations"); a && a->is_object()) {
    cap.annotations = nlohmann::json(*a);
  }
  if (const Json* az = Find(t, "availabilityZone"); az && az->is_string()) {
    out.availability_zone = az->get<std::string>();
  }
  std::string policy = "always";
  if (const Json* p = Find(spec, "restartPolicy")) {
    policy = *p == "OnFailure" ? "on-failure" : *p == "Never" ? "no" : "always";
  }
  cap.restart_policy = {{"MaximumRetryCount", "0"}, {"Name", policy}};
  const capsule::StringMap init_policy =
      policy == "always" ? capsule::StringMap{{"MaximumRetryCount", "10"},
                                              {"Name", "on-failure"}}
                         : cap.restart_policy;
  const std::string label = cap.name ? NamePart(*cap.name) : cap.uuid;

  std::set<std::string> names;
  double cpu_sum = 0, cpu_init = 0;
  int64_t mem_sum = 0, mem_init = 0;
  for (const Json& c : ListOr(spec, "initContainers")) {
    Child child = ParseContainer(c, label, &names);
    child.row.restart_policy = init_policy;
    cpu_init = std::max(cpu_init, child.cpu);
    mem_init = std::max(mem_init, child.memory);
    out.capsule.init_containers.push_back(std::move(child.row));
  }
  for (const Json& c : ListOr(spec, "containers")) {
    Child child = ParseContainer(c, label, &names);
    child.row.restart_policy = cap.restart_policy;
    cpu_sum += child.cpu;
    mem_sum += child.memory;
    out.capsule.containers.push_back(std::move(child.row));
  }
  const double cpu = std::max(cpu_sum, cpu_init);
  if (cpu > 0) cap.cpu = cpu;
  cap.memory = std::to_string(std::max(mem_sum, mem_init));
  return out;
}

}  // namespace

absl::StatusOr<CapsuleRequest> CapsuleFromTemplate(
    std::string_view text, const TemplateOptions& options) {
  if (text.size() > kMaxTemplateBytes) {
    return absl::InvalidArgumentError("template is larger than 1 MiB");
  }
  ZUN_ASSIGN_OR_RETURN(const TemplateJson t, LoadTemplateDocument(text));
  try {
    ZUN_RETURN_IF_ERROR(ValidateCapsuleTemplate(t));
    return Build(t, options);
  } catch (const nlohmann::json::exception& e) {
    // A validated template has the shapes read above; this is a bug.
    return absl::InternalError(
        absl::StrCat("template: unexpected value shape: ", e.what()));
  }
}

}  // namespace zun::tools
