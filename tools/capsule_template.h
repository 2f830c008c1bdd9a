// File: capsule_template.h
// Zun's capsule template (what `openstack capsule create -f` and Virtual
// Kubelet send to POST /v1/capsules) turned into the rows the Zun API writes
// (contract §1.4), for zun-capsule. The text is read as the zun client reads
// it (YAML 1.1 as PyYAML's safe_load, or JSON: py_values.h) and accepted or
// refused exactly as upstream Zun's API does, with its messages
// (capsule_schema.h):
//
//   kind: capsule                     # or Capsule
//   capsuleVersion: beta              # optional; beta or Beta
//   metadata: {name, labels, annotations}      (required, may be {})
//   spec:
//     restartPolicy: Always|OnFailure|Never     (default Always)
//     initContainers: [container...]
//     containers: [container...]                (required, non-empty)
//     volumes: [{name, cinder: {size | volumeID, autoRemove}}]
//   container: image (required), name, command [..], args [..],
//     env {NAME: value}, workDir, ports [{containerPort, protocol TCP|UDP,
//     hostPort, name}], resources {requests: {cpu: vCPUs as a number,
//     memory: MiB as an integer}}, volumeMounts [{name, mountPath,
//     readOnly}], stdin, tty, imagePullPolicy
//
// As the API: capsule row with status Creating, image = the sandbox image,
// cpu = max(sum over containers, each init container) (unset when nothing
// is requested), memory likewise in MiB as a decimal string ("0" when
// nothing is requested), restart_policy {"MaximumRetryCount": "0", "Name":
// policy} (the deprecated top-level restartPolicy is accepted and ignored,
// as the API ignores it), labels as str() of each value, annotations as
// given; children named "capsule-<capsule name or uuid>-<container name>",
// command = command + args, exposed_ports {"<port>/<protocol lower-cased,
// default tcp>": {}}, imagePullPolicy lower-cased (default always).
// Deliberate differences from the API's rows:
//   - init containers of an "always" capsule get on-failure (10 retries) and
//     regular containers the capsule's policy (contract §10, item 6);
//   - the template's container name (default "c<index>") is kept inside the
//     generated name (item 7), with "-2", "-3", ... when names repeat;
//   - interactive is stdin (the API always sets true), and 'False'/'false'
//     mean false for stdin and tty.
//
// Errors: INVALID_ARGUMENT with the API's message for a template the API
// refuses (or input over 1 MiB); UNIMPLEMENTED for a valid template with
// Cinder volumes, which zun-capsule cannot create (it does not talk to
// Cinder). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "capsule/model.h"

namespace zun::tools {

struct TemplateOptions {
  std::string project_id;
  std::string user_id;
  std::string sandbox_image = "kubernetes/pause";  // [DEFAULT] sandbox_image
  std::string sandbox_image_driver = "docker";
};

struct CapsuleRequest {
  capsule::Capsule capsule;  // uuids assigned, ready for ApiStore
  std::optional<std::string> availability_zone;
};

inline constexpr size_t kMaxTemplateBytes = 1 << 20;

absl::StatusOr<CapsuleRequest> CapsuleFromTemplate(
    std::string_view text, const TemplateOptions& options);

}  // namespace zun::tools
