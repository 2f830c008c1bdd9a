// File: placement.h
// The Placement seam: what a Zun compute node and the stand-in API ask of
// OpenStack Placement. Implementations: HttpPlacementClient (the real
// service, through a Keystone-authenticated ServiceClient, microversion
// 1.31) and FakePlacement (in memory, for unit tests).
//
// Errors shared by every method: UNAVAILABLE / DEADLINE_EXCEEDED when
// Placement (or Keystone) could not be reached in time (retry later);
// UNAUTHENTICATED / PERMISSION_DENIED when the credentials are refused;
// ABORTED on a generation conflict (409: re-read, then retry);
// INVALID_ARGUMENT when Placement rejected the request.
//
// Thread-safe: any number of threads may call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zun::openstack {

// The trait Zun's scheduler forbids: set while the zun_service row of the
// host is disabled.
inline constexpr char kDisabledTrait[] = "CUSTOM_ZUN_COMPUTE_STATUS_DISABLED";

struct ResourceProvider {
  std::string uuid;
  std::string name;
  int64_t generation = 0;
};

struct Inventory {
  int64_t total = 0;
  int64_t reserved = 0;
  int64_t min_unit = 1;
  int64_t max_unit = 1;
  int64_t step_size = 1;
  double allocation_ratio = 1.0;

  bool operator==(const Inventory&) const = default;
};
using Inventories = std::map<std::string, Inventory>;  // by resource class

struct ProviderInventories {
  int64_t generation = 0;
  Inventories inventories;
};

struct ProviderTraits {
  int64_t generation = 0;
  std::set<std::string> traits;
};

using Resources = std::map<std::string, int64_t>;  // resource class -> amount

// One way to satisfy a request: amounts per resource provider.
struct AllocationRequest {
  std::map<std::string, Resources> allocations;  // provider uuid -> amounts
};

struct AllocationCandidates {
  std::vector<AllocationRequest> requests;
};

class PlacementClient {
 public:
  virtual ~PlacementClient() = default;

  // The provider, or nullopt if Placement has none with this uuid.
  virtual absl::StatusOr<std::optional<ResourceProvider>> GetProvider(
      const std::string& uuid) = 0;
  // Providers named `name` (0 or 1: names are unique).
  virtual absl::StatusOr<std::vector<ResourceProvider>> FindProviders(
      const std::string& name) = 0;
  // Creates a root provider. ALREADY_EXISTS if the uuid or the name is
  // taken.
  virtual absl::StatusOr<ResourceProvider> CreateProvider(
      const std::string& uuid, const std::string& name) = 0;

  virtual absl::StatusOr<ProviderInventories> GetInventories(
      const std::string& uuid) = 0;
  // Replaces the provider's inventory as of `generation`; returns the new
  // generation. ABORTED if the generation moved on; FAILED_PRECONDITION if
  // a class in use would disappear or shrink below its allocations.
  virtual absl::StatusOr<int64_t> SetInventories(
      const std::string& uuid, int64_t generation,
      const Inventories& inventories) = 0;

  virtual absl::StatusOr<ProviderTraits> GetTraits(const std::string& uuid) = 0;
  // Replaces the provider's traits as of `generation`; returns the new
  // generation. Custom traits must exist (EnsureTrait).
  virtual absl::StatusOr<int64_t> SetTraits(
      const std::string& uuid, int64_t generation,
      const std::set<std::string>& traits) = 0;
  // Creates the custom trait `name` (CUSTOM_...) if it does not exist.
  virtual absl::Status EnsureTrait(const std::string& name) = 0;

  // Every allocation against the provider: consumer uuid -> amounts.
  virtual absl::StatusOr<std::map<std::string, Resources>> ProviderAllocations(
      const std::string& uuid) = 0;
  // Removes every allocation of the consumer. OK if it has none.
  virtual absl::Status DeleteAllocations(const std::string& consumer) = 0;

  // Ways to satisfy `resources` on one root provider without the
  // `forbidden` traits, at most `limit` of them.
  virtual absl::StatusOr<AllocationCandidates> GetAllocationCandidates(
      const Resources& resources, const std::set<std::string>& forbidden,
      int limit) = 0;
  // Claims `request` for a new consumer. ABORTED if the capacity went (or
  // the consumer exists already).
  virtual absl::Status ClaimAllocations(const std::string& consumer,
                                        const AllocationRequest& request,
                                        const std::string& project_id,
                                        const std::string& user_id) = 0;
};

}  // namespace zun::openstack
