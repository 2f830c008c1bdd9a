#include "db/container_fields.h"

#include <map>

namespace zun::db {
namespace {

using R = ContainerRecord;

// Shorthands for the table below.
constexpr bool kJsonText = true;
constexpr bool kAgentWrites = true;
constexpr uint8_t kBoth = kViewCapsule | kViewChild;

}  // namespace

const std::vector<Field>& ContainerFields() {
  static const auto* fields = new std::vector<Field>{
      // name, member, json_text, agent_writes, object form, view, view name
      {"id", &R::id},
      {"container_type", &R::container_type, false, false, ObjectForm::kNone},
      {"container_id", &R::container_id, false, kAgentWrites,
       ObjectForm::kPlain, kBoth},
      {"uuid", &R::uuid, false, false, ObjectForm::kPlain, kBoth},
      {"name", &R::name, false, false, ObjectForm::kPlain, kBoth},
      {"project_id", &R::project_id, false, false, ObjectForm::kPlain,
       kViewCapsule},
      {"user_id", &R::user_id, false, false, ObjectForm::kPlain, kViewCapsule},
      {"image", &R::image, false, false, ObjectForm::kPlain, kViewChild},
      {"cpu", &R::cpu, false, false, ObjectForm::kPlain, kBoth},
      {"cpu_policy", &R::cpu_policy},
      {"cpuset", &R::cpuset, kJsonText, kAgentWrites, ObjectForm::kCpuset},
      {"memory", &R::memory, false, false, ObjectForm::kPlain, kBoth},
      {"command", &R::command, kJsonText, false, ObjectForm::kPlain,
       kViewChild},
      {"status", &R::status, false, kAgentWrites, ObjectForm::kPlain, kBoth},
      {"status_reason", &R::status_reason, false, kAgentWrites,
       ObjectForm::kPlain, kBoth},
      {"task_state", &R::task_state, false, kAgentWrites, ObjectForm::kPlain,
       kViewCapsule},
      {"environment", &R::environment, kJsonText, false, ObjectForm::kPlain,
       kViewChild},
      {"workdir", &R::workdir, false, false, ObjectForm::kPlain, kViewChild},
      {"auto_remove", &R::auto_remove},
      {"ports", &R::ports, kJsonText},
      {"hostname", &R::hostname},
      {"labels", &R::labels, kJsonText, false, ObjectForm::kPlain,
       kViewCapsule},
      {"addresses", &R::addresses, kJsonText, kAgentWrites,
       ObjectForm::kJsonField, kViewCapsule},
      {"image_pull_policy", &R::image_pull_policy, false, false,
       ObjectForm::kPlain, kViewChild},
      {"host", &R::host, false, kAgentWrites, ObjectForm::kPlain, kViewCapsule},
      {"restart_policy", &R::restart_policy, kJsonText, false,
       ObjectForm::kPlain, kBoth},
      {"status_detail", &R::status_detail, false, kAgentWrites,
       ObjectForm::kPlain, kViewChild},
      {"interactive", &R::interactive, false, false, ObjectForm::kPlain,
       kViewChild},
      {"tty", &R::tty, false, false, ObjectForm::kPlain, kViewChild},
      {"image_driver", &R::image_driver, false, kAgentWrites},
      {"websocket_url", &R::websocket_url, false, kAgentWrites},
      {"websocket_token", &R::websocket_token, false, kAgentWrites},
      {"security_groups", &R::security_groups, kJsonText},
      {"runtime", &R::runtime},
      {"disk", &R::disk, false, kAgentWrites},
      {"auto_heal", &R::auto_heal},
      {"started_at", &R::started_at, false, kAgentWrites, ObjectForm::kPlain,
       kViewChild},
      {"exposed_ports", &R::exposed_ports, kJsonText, false,
       ObjectForm::kJsonField, kViewChild, "ports"},
      {"privileged", &R::privileged},
      {"healthcheck", &R::healthcheck, kJsonText, false,
       ObjectForm::kJsonField},
      {"registry_id", &R::registry_id},
      {"annotations", &R::annotations, kJsonText, false, ObjectForm::kJsonField,
       kViewCapsule},
      {"cni_metadata", &R::cni_metadata, kJsonText, kAgentWrites,
       ObjectForm::kJsonField},
      {"entrypoint", &R::entrypoint, kJsonText},
      {"capsule_id", &R::capsule_id, false, false, ObjectForm::kChildOnly},
      {"created_at", &R::created_at, false, false, ObjectForm::kPlain,
       kViewCapsule},
      {"updated_at", &R::updated_at},
  };
  return *fields;
}

const Field* FindField(std::string_view name) {
  // Every row write looks its columns up: by name, not by a walk.
  static const auto* by_name = [] {
    auto* m = new std::map<std::string_view, const Field*>;
    for (const Field& f : ContainerFields()) (*m)[f.name] = &f;
    return m;
  }();
  auto it = by_name->find(name);
  return it == by_name->end() ? nullptr : it->second;
}

}  // namespace zun::db
