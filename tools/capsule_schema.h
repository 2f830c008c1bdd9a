// File: capsule_schema.h
// What upstream Zun's API accepts as a capsule template (POST /v1/capsules,
// API 1.40: zun/api/controllers/v1/schemas/parameter_types.py, the capsules
// controller and zun/common/utils.py), for zun-capsule.
//
// ValidateCapsuleTemplate() checks, in the API's order, and stops at the
// first failure:
//   1. Zun's JSON schema (jsonschema Draft 4, the subset Zun uses: type,
//      enum, properties, additionalProperties, required, items, minLength,
//      maxLength, minimum, maximum, pattern, the env patternProperties),
//      keywords in the order Zun's schema dicts list them. Template keys:
//      kind, capsuleVersion, metadata, restartPolicy (accepted, ignored),
//      spec, availabilityZone; kind, spec and metadata required. metadata and
//      spec allow extra keys; containers, resources, ports, volumeMounts and
//      cinder do not. cpu: number (0.1-16) or digit string; memory: integer
//      (4-8192 MiB) or digit string, not a float; env: a mapping of strings;
//      stdin/tty/readOnly: a boolean or 'True'/'true'/'False'/'false';
//      volumes: Cinder only ({name, cinder: {volumeID | size, autoRemove}}).
//      The message is the API's: "Invalid input for field '<last path
//      element>'.Value: '<str(value)>'. <first line of jsonschema's
//      message>", with the path of the body the zun client sends
//      ({"template": ...}), so template-level errors name 'template'.
//   2. The API's own checks, with its texts: "Capsule need to have one
//      container at least", "Container image is needed", "Volume size is
//      needed", "Volume size and uuid could not be set at the same time",
//      "Zun now Only support Cinder volume driver", "volume mount parameters
//      is invalid." (a declared volume no container mounts). Zun answers some
//      of these with HTTP 500; the text is the same.
//   3. Values that pass Zun's schema and then make the API fail with HTTP
//      500, refused here with a message that says so: string cpu/memory (the
//      API adds them up), a null imagePullPolicy, null command/args items,
//      label values that are not strings or numbers.
// Stricter than Zun: spec.initContainers, which Zun's schema ignores (it
// only checks each has an image), must be a list of containers that pass
// the container schema.
//
// Every failure is INVALID_ARGUMENT. Pure function; thread-safe.
#pragma once

#include "absl/status/status.h"
#include "tools/py_value.h"

namespace zun::tools {

// `tmpl` is the template itself (LoadTemplateDocument), not the POST body.
absl::Status ValidateCapsuleTemplate(const TemplateJson& tmpl);

}  // namespace zun::tools
