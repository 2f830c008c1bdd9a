// File: http_placement_client.h
// PlacementClient over Placement's REST API (microversion 1.31 for every
// call: provider creation returns the provider (1.20), reserved may equal
// total (1.26), allocations carry consumer generations (1.28), forbidden
// traits in candidate requests (1.22)). 409 answers are told apart by
// Placement's error code: placement.concurrent_update is ABORTED,
// placement.inventory.inuse FAILED_PRECONDITION, a taken name or uuid
// ALREADY_EXISTS.
//
// Thread-safe (the ServiceClient and session are).
#pragma once

#include "nlohmann/json.hpp"
#include "openstack/keystone.h"
#include "openstack/placement.h"

namespace zun::openstack {

inline constexpr char kPlacementMicroversion[] = "placement 1.31";

class HttpPlacementClient final : public PlacementClient {
 public:
  // `service` must carry the microversion header (MakePlacementService).
  explicit HttpPlacementClient(ServiceClient& service);

  absl::StatusOr<std::optional<ResourceProvider>> GetProvider(
      const std::string& uuid) override;
  absl::StatusOr<std::vector<ResourceProvider>> FindProviders(
      const std::string& name) override;
  absl::StatusOr<ResourceProvider> CreateProvider(
      const std::string& uuid, const std::string& name) override;
  absl::StatusOr<ProviderInventories> GetInventories(
      const std::string& uuid) override;
  absl::StatusOr<int64_t> SetInventories(
      const std::string& uuid, int64_t generation,
      const Inventories& inventories) override;
  absl::StatusOr<ProviderTraits> GetTraits(const std::string& uuid) override;
  absl::StatusOr<int64_t> SetTraits(
      const std::string& uuid, int64_t generation,
      const std::set<std::string>& traits) override;
  absl::Status EnsureTrait(const std::string& name) override;
  absl::StatusOr<std::map<std::string, Resources>> ProviderAllocations(
      const std::string& uuid) override;
  absl::Status DeleteAllocations(const std::string& consumer) override;
  absl::StatusOr<AllocationCandidates> GetAllocationCandidates(
      const Resources& resources, const std::set<std::string>& forbidden,
      int limit) override;
  absl::Status ClaimAllocations(const std::string& consumer,
                                const AllocationRequest& request,
                                const std::string& project_id,
                                const std::string& user_id) override;

 private:
  // Sends the request and returns the JSON object of a 2xx answer (errors
  // mapped as documented above; `what` names the request in them).
  absl::StatusOr<nlohmann::json> Json(const std::string& method,
                                      const std::string& path,
                                      const std::string& what,
                                      const std::string& body = "");

  ServiceClient& service_;
};

// The microversion header every Placement request of ours carries.
std::map<std::string, std::string> PlacementHeaders();

}  // namespace zun::openstack
