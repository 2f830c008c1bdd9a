#include "fuzz/fuzz_common.h"

#include "capsule/mapper.h"
#include "common/logging.h"

namespace zun::fuzz {

void Quiet() {
  static const bool done = [] {
    log::Options o;
    o.level = spdlog::level::off;
    log::Init(o);
    return true;
  }();
  (void)done;
}

void MapCapsule(const capsule::Capsule& c) {
  capsule::MapperOptions strict;
  strict.host = "fuzz-host";
  strict.log_root = "/var/log/zun/pods";
  capsule::MapperOptions loose = strict;
  loose.allow_privileged = true;
  loose.host_path_allowlist = {"/var/lib/zun", "/srv"};
  loose.runtime_handlers = {{"runc", ""}, {"kata", "kata"}};
  loose.sysctls = {{"net.core.somaxconn", "1024"}};
  for (const capsule::MapperOptions* m : {&strict, &loose}) {
    if (!capsule::ValidateCapsule(c, *m).ok()) continue;
    if (!capsule::RuntimeHandlerFor(c, *m).ok()) continue;
    absl::StatusOr<cri::PodSandboxConfig> sb =
        capsule::BuildSandboxConfig(c, *m, 0);
    if (!sb.ok()) continue;
    for (const auto* list : {&c.init_containers, &c.containers}) {
      for (const capsule::ContainerRecord& child : *list) {
        (void)capsule::BuildContainerConfig(c, child, *m, "sha256:0", 1);
      }
    }
  }
}

}  // namespace zun::fuzz
