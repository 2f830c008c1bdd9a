// File: fake_placement.h
// An in-memory Placement for unit tests: providers with generations,
// inventories, traits and allocations, with the conflicts the real service
// raises (stale generations, capacity) and a switch that makes every call
// fail UNAVAILABLE (Placement down). Candidates and claims check capacity
// as Placement does: (total - reserved) * allocation_ratio - used, and
// max_unit per request.
//
// Thread-safe.
#pragma once

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "openstack/placement.h"

namespace zun::openstack {

class FakePlacement final : public PlacementClient {
 public:
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

  // Test controls.
  void SetAvailable(bool available);
  // Bumps a provider's generation, as another writer would.
  void Touch(const std::string& uuid);
  // Makes the next `n` generation-checked writes fail with a conflict.
  void FailNextWrites(int n);
  std::map<std::string, std::map<std::string, Resources>> Allocations();
  int64_t calls();

 private:
  struct Provider {
    ResourceProvider rp;
    Inventories inventories;
    std::set<std::string> traits;
  };
  absl::Status Enter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckGeneration(const Provider& p, int64_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t Used(const std::string& rp, const std::string& rc)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Fits(const Provider& p, const Resources& want)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  bool available_ ABSL_GUARDED_BY(mu_) = true;
  int fail_writes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> custom_traits_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Provider> providers_ ABSL_GUARDED_BY(mu_);
  // consumer -> provider -> amounts
  std::map<std::string, std::map<std::string, Resources>> allocations_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::openstack
