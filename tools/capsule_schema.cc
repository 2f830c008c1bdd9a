#include "tools/capsule_schema.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "tools/json_schema.h"

namespace zun::tools {
namespace {

using Json = TemplateJson;
using schema::Check;
using schema::Enum;
using schema::EnvValues;
using schema::Items;
using schema::Match;
using schema::Maximum;
using schema::MaxLength;
using schema::Minimum;
using schema::MinLength;
using schema::NoAdditional;
using schema::Pattern;
using schema::Props;
using schema::Required;
using schema::Schema;
using schema::Type;

// parameter_types.py at 977b5ef7 with Zun's default limits (minimum_cpus
// 0.1, maximum_cpus 16.0, minimum_memory 4, maximum_memory 8192). Built
// once; members point at earlier members.
struct Schemas {
  Schema container_name{{Type({"string", "null"}), MinLength(2), MaxLength(255),
                         Match(Pattern::kName)}};
  Schema image_name{
      {Type({"string"}), MinLength(2), MaxLength(255), Match(Pattern::kImage)}};
  Schema command{{Type({"string", "null"})}};
  Schema cpu{{Type({"number", "string", "null"}), Match(Pattern::kCpu),
              MinLength(1), Minimum(0.1), Maximum(16.0)}};
  Schema memory{{Type({"string", "integer", "null"}), Minimum(4), Maximum(8192),
                 Match(Pattern::kDigits)}};
  Schema workdir{{Type({"string", "null"})}};
  Schema image_pull_policy{{Type({"string", "null"}),
                            Enum({"never", "always", "ifnotpresent", "Never",
                                  "Always", "IfNotPresent", nullptr})}};
  Schema labels{{Type({"object", "null"})}};  // also annotations
  Schema availability_zone{
      {Type({"string", "null"}), MinLength(1), MaxLength(255)}};
  Schema env_value{{Type({"string"})}};
  Schema environment{{Type({"object", "null"}), EnvValues(&env_value)}};
  Schema non_negative_integer{{Type({"integer", "string"}),
                               Match(Pattern::kDigitsOrEmpty), Minimum(0)}};
  Schema boolean{{Type({"boolean", "string"}),
                  Enum({true, "True", "true", false, "False", "false"})}};
  Schema kind{{Type({"string"}), Enum({"capsule", "Capsule"})}};
  Schema version{{Type({"string"}), Enum({"beta", "Beta"})}};
  Schema metadata{{Type({"object"}), Props({{"labels", &labels},
                                            {"annotations", &labels},
                                            {"name", &container_name}})}};
  Schema restart_policy{
      {Type({"string"}), Enum({"Always", "OnFailure", "Never"})}};
  Schema command_list{{Type({"array"}), Items(&command)}};
  Schema requests{{Type({"object"}),
                   Props({{"cpu", &cpu}, {"memory", &memory}}),
                   NoAdditional()}};
  Schema resources{
      {Type({"object"}), Props({{"requests", &requests}}), NoAdditional()}};
  Schema protocol{{Type({"string"}), Enum({"TCP", "UDP"})}};
  Schema port{{Type({"object"}),
               Props({{"name", &container_name},
                      {"containerPort", &non_negative_integer},
                      {"hostPort", &non_negative_integer},
                      {"protocol", &protocol}}),
               NoAdditional(), Required({"containerPort"})}};
  Schema ports{{Type({"array"}), Items(&port)}};
  Schema volume_name{
      {Type({"string"}), MinLength(2), MaxLength(255), Match(Pattern::kName)}};
  Schema volume_path{{Type({"string"})}};
  Schema volume_mount{{Type({"object"}),
                       Props({{"name", &volume_name},
                              {"mountPath", &volume_path},
                              {"readOnly", &boolean}}),
                       NoAdditional(), Required({"name", "mountPath"})}};
  Schema volume_mounts{{Type({"array"}), Items(&volume_mount)}};
  Schema container{{Type({"object"}),
                    Props({{"name", &container_name},
                           {"image", &image_name},
                           {"command", &command_list},
                           {"args", &command_list},
                           {"resources", &resources},
                           {"ports", &ports},
                           {"volumeMounts", &volume_mounts},
                           {"env", &environment},
                           {"workDir", &workdir},
                           {"imagePullPolicy", &image_pull_policy},
                           {"stdin", &boolean},
                           {"tty", &boolean}}),
                    NoAdditional(), Required({"image"})}};
  Schema containers{{Type({"array"}), Items(&container)}};
  // Not Zun's: zun-capsule checks spec.initContainers too.
  Schema init_containers{{Type({"array", "null"})}};
  // volume_size's pattern and minLength never apply to a number.
  Schema volume_size{{Type({"number"})}};
  Schema volume_uuid{{Type({"string"}), MaxLength(36), MinLength(36)}};
  Schema cinder{{Type({"object"}),
                 Props({{"volumeID", &volume_uuid},
                        {"size", &volume_size},
                        {"autoRemove", &boolean}}),
                 NoAdditional()}};
  Schema volume{{Type({"object"}),
                 Props({{"name", &volume_name}, {"cinder", &cinder}}),
                 Required({"name", "cinder"})}};
  Schema volumes{{Type({"array", "null"}), Items(&volume)}};
  Schema spec{{Type({"object"}),
               Props({{"containers", &containers},
                      {"volumes", &volumes},
                      {"restartPolicy", &restart_policy}}),
               Required({"containers"})}};
  Schema capsule_template{{Type({"object"}),
                           Props({{"kind", &kind},
                                  {"capsuleVersion", &version},
                                  {"metadata", &metadata},
                                  {"restartPolicy", &restart_policy},
                                  {"spec", &spec},
                                  {"availabilityZone", &availability_zone}}),
                           NoAdditional(),
                           Required({"kind", "spec", "metadata"})}};
};

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(AV(message));
}

const Json* Find(const Json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const Json& ListOr(const Json& spec, const std::string& key) {
  static const Json* const kEmpty = new Json(Json::array());
  const Json* list = Find(spec, key);
  return list != nullptr && list->is_array() ? *list : *kEmpty;
}

std::string Fails500(std::string_view doing) {
  return absl::StrCat(
      " passes Zun's schema, but the Zun API then fails (HTTP 500) ",
      AV(doing));
}

// What the capsule controller's _do_post does with values the schema let
// through: totals, labels, image pull policies, commands, volume mounts.
absl::Status CheckWhatTheApiDoes(const Json& t, const Json& spec) {
  if (const Json* labels = Find(t.at("metadata"), "labels")) {
    for (const auto& [key, v] : labels->items()) {
      if (v.is_string() || v.is_number() || v.is_boolean()) continue;
      return Invalid(absl::StrCat(
          "metadata.labels.", key, ": ", PyRepr(v),
          Fails500("storing it: label values must be strings or numbers")));
    }
  }
  for (const std::string list : {"containers", "initContainers"}) {
    const Json& items = ListOr(spec, list);
    for (size_t i = 0; i < items.size(); ++i) {
      const Json* res = Find(items[i], "resources");
      if (res == nullptr || res->empty()) continue;
      for (const std::string key : {"cpu", "memory"}) {
        const Json* v = Find(res->at("requests"), key);
        if (v == nullptr || !v->is_string()) continue;
        return Invalid(absl::StrCat(
            "spec.", list, "[", i, "].resources.requests.", key, ": ",
            PyRepr(*v), Fails500("adding it to the capsule's total: write "),
            key == "cpu" ? "a number of vCPUs, e.g. cpu: 0.5"
                         : "an integer number of MiB, e.g. memory: 512"));
      }
    }
  }
  for (const std::string list : {"initContainers", "containers"}) {
    const Json& items = ListOr(spec, list);
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string path = absl::StrCat("spec.", list, "[", i, "].");
      const Json* pull = Find(items[i], "imagePullPolicy");
      if (pull != nullptr && pull->is_null()) {
        return Invalid(absl::StrCat(
            path, "imagePullPolicy: None",
            Fails500(
                "lower-casing it: leave it out for the default (always)")));
      }
      for (const std::string key : {"command", "args"}) {
        const Json& words = ListOr(items[i], key);
        for (size_t j = 0; j < words.size(); ++j) {
          if (!words[j].is_null()) continue;
          return Invalid(absl::StrCat(path, key, "[", j, "]: None",
                                      Fails500("storing the command")));
        }
      }
      // Keys "" and "\n" escape the schema's '.+'.
      const Json* env = Find(items[i], "env");
      if (env == nullptr || !env->is_object()) continue;
      for (const auto& [key, v] : env->items()) {
        if (v.is_string() || v.is_number() || v.is_boolean()) continue;
        return Invalid(absl::StrCat(path, "env.", key, ": ", PyRepr(v),
                                    Fails500("storing the environment")));
      }
    }
  }
  // _build_requested_volumes: each volume needs a mount, and the last
  // mount naming it needs a path.
  for (const Json& volume : ListOr(spec, "volumes")) {
    std::string path;
    for (const std::string list : {"initContainers", "containers"}) {
      for (const Json& c : ListOr(spec, list)) {
        for (const Json& m : ListOr(c, "volumeMounts")) {
          if (m.at("name") == volume.at("name")) {
            path = m.at("mountPath").get<std::string>();
          }
        }
      }
    }
    if (path.empty()) return Invalid("volume mount parameters is invalid.");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCapsuleTemplate(const TemplateJson& t) {
  static const Schemas* const schemas = new Schemas;
  const Schemas& s = *schemas;
  if (!t.is_object()) {
    return Invalid(
        "template: expected a mapping (a YAML or JSON object) with kind, "
        "metadata and spec");
  }
  ZUN_RETURN_IF_ERROR(Check(s.capsule_template, t, "template"));
  // check_capsule_template
  if (t.at("kind") != "capsule" && t.at("kind") != "Capsule") {
    return Invalid("kind fields need to be set as capsule or Capsule");
  }
  const Json& spec = t.at("spec");
  // utils.capsule_get_container_spec
  if (spec.at("containers").empty()) {
    return Invalid("Capsule need to have one container at least");
  }
  if (const Json* init = Find(spec, "initContainers")) {
    ZUN_RETURN_IF_ERROR(Check(s.init_containers, *init, "initContainers"));
    for (size_t i = 0; init->is_array() && i < init->size(); ++i) {
      if (!(*init)[i].is_object()) {
        return Check(s.container, (*init)[i], std::to_string(i));
      }
      if (!(*init)[i].contains("image")) {
        return Invalid("Container image is needed");
      }
    }
    for (size_t i = 0; init->is_array() && i < init->size(); ++i) {
      ZUN_RETURN_IF_ERROR(Check(s.container, (*init)[i], std::to_string(i)));
    }
  }
  // utils.capsule_get_volume_spec
  for (const Json& volume : ListOr(spec, "volumes")) {
    const Json& cinder = volume.at("cinder");
    if (cinder.empty()) {
      return Invalid("Zun now Only support Cinder volume driver");
    }
    const Json* size = Find(cinder, "size");
    if (!cinder.contains("volumeID")) {
      if (size == nullptr) return Invalid("Volume size is needed");
    } else if (size != nullptr && size->get<double>() != 0) {
      return Invalid("Volume size and uuid could not be set at the same time");
    }
  }
  return CheckWhatTheApiDoes(t, spec);
}

}  // namespace zun::tools
