// File: capsule_template.h
// Zun's capsule template (what `openstack capsule create -f` and Virtual
// Kubelet send to POST /v1/capsules) turned into the rows the Zun API writes
// (contract §1.4), for zun-capsule. YAML or JSON:
//
//   kind: capsule                     # or Capsule
//   metadata: {name, labels, annotations}
//   restart_policy: ...               # deprecated top-level form, honoured
//   spec:
//     restartPolicy: Always|OnFailure|Never     (default Always)
//     initContainers: [container...]
//     containers: [container...]                (required, non-empty)
//     volumes: [{name, emptyDir: {}}]           (cinder needs the real API)
//   container: name, image, command, args, env (map or [{name, value}]),
//     workDir, ports [{containerPort, protocol, name}], resources.requests
//     {cpu, memory}, volumeMounts [{name, mountPath, readOnly}], stdin, tty,
//     imagePullPolicy
//
// As the API: capsule row with status Creating, image = the sandbox image,
// cpu = max(sum over containers, each init container), memory likewise in
// MiB as a decimal string ("0" when nothing is requested), restart_policy
// {"MaximumRetryCount": "0", "Name": policy}; children named
// "capsule-<capsule name or uuid>-<container name>", command = command +
// args, exposed_ports {"<port>/<proto>": {}}, imagePullPolicy lower-cased
// (default always). Two fixes over the API (contract §10, item 6 and 7):
// init containers of an "always" capsule get on-failure (10 retries) and
// regular containers the capsule's policy; the template's container name is
// kept inside the generated name.
//
// Unknown keys, wrong types and bad values are INVALID_ARGUMENT naming the
// path ("spec.containers[1].resources.requests.cpu: ..."). Input over 1 MiB
// or nested too deeply is rejected. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "capsule/model.h"

namespace zun::tools {

struct TemplateOptions {
  std::string project_id;
  std::string user_id;
  std::string sandbox_image = "kubernetes/pause";  // [DEFAULT] sandbox_image
  std::string sandbox_image_driver = "docker";
};

// A local volume of the capsule and where its containers mount it.
struct TemplateVolume {
  std::string name;
  struct Mount {
    std::string container_uuid;
    std::string mount_path;
    bool read_only = false;
  };
  std::vector<Mount> mounts;
};

struct CapsuleRequest {
  capsule::Capsule capsule;  // uuids assigned, ready for ApiStore
  std::vector<TemplateVolume> volumes;
  std::optional<std::string> availability_zone;
};

inline constexpr size_t kMaxTemplateBytes = 1 << 20;

absl::StatusOr<CapsuleRequest> CapsuleFromTemplate(
    std::string_view text, const TemplateOptions& options);

// "500m" -> 0.5, "2" -> 2, 1.5 -> 1.5 (vCPUs). INVALID_ARGUMENT otherwise.
absl::StatusOr<double> ParseCpu(std::string_view v);
// Memory in MiB: a plain number is MiB (Zun's unit); Kubernetes quantities
// with Ki/Mi/Gi/Ti or k/M/G/T are converted, rounding up to whole MiB.
absl::StatusOr<int64_t> ParseMemoryMiB(std::string_view v);

}  // namespace zun::tools
