// File: api_store.h
// What the Zun API writes to the database for capsules (contract §1.4):
// capsule and child rows on create, task_state on delete, and direct row
// deletion of unscheduled capsules. The agent never uses this; zun-capsule
// (the stand-in for the API) and the tests do, so both write rows exactly
// the same way. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capsule/model.h"
#include "common/fernet.h"
#include "db/pg_options.h"

namespace zun::db {

class PgPool;

class ApiStore {
 public:
  explicit ApiStore(const PgOptions& options);
  ~ApiStore();

  // Inserts the capsule row (type 1), then its init containers (type 3) and
  // containers (type 2) in order, in one transaction, and returns the
  // capsule as stored (ids and capsule_id filled in, created_at set).
  // ALREADY_EXISTS if a uuid is taken.
  absl::StatusOr<capsule::Capsule> CreateCapsule(const capsule::Capsule& c);

  // The API's delete: task_state = container_deleting. NOT_FOUND if absent.
  absl::Status MarkDeleting(const std::string& uuid);
  // status = Error with `reason` (the API's failure before the cast, e.g.
  // no host could be reached). NOT_FOUND if absent.
  absl::Status MarkError(const std::string& uuid, const std::string& reason);
  // The API's direct delete of a capsule that has no host.
  absl::Status DeleteRows(const std::string& uuid);

  // A capsule by uuid or (unique) name, with children. NOT_FOUND if none;
  // FAILED_PRECONDITION if the name is ambiguous.
  absl::StatusOr<capsule::Capsule> Find(const std::string& uuid_or_name);
  // Every capsule, oldest first.
  absl::StatusOr<std::vector<capsule::Capsule>> List();

  // The API's container_actions row for a request (action "create" or
  // "delete"), before it casts.
  absl::Status RecordAction(const std::string& uuid, const std::string& action,
                            const std::string& request_id,
                            const std::string& project_id,
                            const std::string& user_id);

  // One mount of a volume into a capsule container.
  struct VolumeMapping {
    std::string container_uuid;
    std::string container_path;
    bool read_only = false;
  };
  // A local volume (Zun's volume row, provider "local") mounted into the
  // given containers (volume_mapping rows), in one transaction; returns the
  // volume uuid. Containers that share it see the same directory.
  absl::StatusOr<std::string> CreateLocalVolume(
      const std::string& project_id, const std::vector<VolumeMapping>& mounts);

  // A local volume mounted into one container (Zun's volume and
  // volume_mapping rows); returns the volume uuid.
  absl::StatusOr<std::string> AddLocalVolume(const std::string& container_uuid,
                                             const std::string& container_path,
                                             bool read_only,
                                             const std::string& project_id);

  // Of the resource providers `rp_uuids`, those that are a compute_node
  // whose host runs a zun-compute service that is enabled, not forced down
  // and was seen within `service_down_time` (Zun's ComputeFilter):
  // rp_uuid -> hostname.
  absl::StatusOr<std::map<std::string, std::string>> SchedulableHosts(
      const std::vector<std::string>& rp_uuids,
      absl::Duration service_down_time);
  // The compute_node.rp_uuid of `host`; NOT_FOUND if it has none.
  absl::StatusOr<std::string> ProviderOf(const std::string& host);

  // Registers private registry credentials; returns the registry id. The
  // password is stored as Zun's API stores it: a Fernet token under
  // `auth_encryption_key` (Zun's default key unless given).
  absl::StatusOr<int64_t> CreateRegistry(
      const std::string& domain, const std::string& username,
      const std::string& password,
      const std::string& auth_encryption_key = kZunDefaultEncryptionKey);

 private:
  std::unique_ptr<PgPool> pool_;
};

}  // namespace zun::db
