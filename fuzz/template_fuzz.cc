// libFuzzer target: zun-capsule's capsule template parser (YAML or JSON),
// and the capsule it yields through validation and the mapper.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_common.h"
#include "tools/capsule_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zun::fuzz::Quiet();
  zun::tools::TemplateOptions o;
  o.project_id = "p";
  o.user_id = "u";
  absl::StatusOr<zun::tools::CapsuleRequest> r =
      zun::tools::CapsuleFromTemplate(
          std::string_view(reinterpret_cast<const char*>(data), size), o);
  if (r.ok()) zun::fuzz::MapCapsule(r->capsule);
  return 0;
}
