#include "openstack/fake_placement.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace zun::openstack {

absl::Status FakePlacement::Enter() {
  ++calls_;
  if (!available_) return absl::UnavailableError("Placement: fake is down");
  return absl::OkStatus();
}

absl::Status FakePlacement::CheckGeneration(const Provider& p,
                                            int64_t generation) {
  if (fail_writes_ > 0) {
    --fail_writes_;
    return absl::AbortedError("Placement: concurrent update (injected)");
  }
  if (p.rp.generation != generation) {
    return absl::AbortedError(absl::StrCat("Placement: generation ", generation,
                                           " is stale (now ", p.rp.generation,
                                           ")"));
  }
  return absl::OkStatus();
}

int64_t FakePlacement::Used(const std::string& rp, const std::string& rc) {
  int64_t used = 0;
  for (const auto& [consumer, by_rp] : allocations_) {
    auto it = by_rp.find(rp);
    if (it == by_rp.end()) continue;
    auto a = it->second.find(rc);
    if (a != it->second.end()) used += a->second;
  }
  return used;
}

bool FakePlacement::Fits(const Provider& p, const Resources& want) {
  for (const auto& [rc, n] : want) {
    auto it = p.inventories.find(rc);
    if (it == p.inventories.end()) return false;
    const Inventory& inv = it->second;
    const double capacity = std::floor(
        static_cast<double>(inv.total - inv.reserved) * inv.allocation_ratio);
    if (n > inv.max_unit || n < inv.min_unit ||
        static_cast<double>(Used(p.rp.uuid, rc) + n) > capacity) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::optional<ResourceProvider>> FakePlacement::GetProvider(
    const std::string& uuid) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return std::nullopt;
  return it->second.rp;
}

absl::StatusOr<std::vector<ResourceProvider>> FakePlacement::FindProviders(
    const std::string& name) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  std::vector<ResourceProvider> out;
  for (const auto& [uuid, p] : providers_) {
    if (p.rp.name == name) out.push_back(p.rp);
  }
  return out;
}

absl::StatusOr<ResourceProvider> FakePlacement::CreateProvider(
    const std::string& uuid, const std::string& name) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [u, p] : providers_) {
    if (u == uuid || p.rp.name == name) {
      return absl::AlreadyExistsError(
          absl::StrCat("Placement: provider ", uuid, " / ", name, " exists"));
    }
  }
  Provider p;
  p.rp = ResourceProvider{uuid, name, 0};
  providers_[uuid] = p;
  return p.rp;
}

absl::StatusOr<ProviderInventories> FakePlacement::GetInventories(
    const std::string& uuid) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return absl::NotFoundError("no such provider");
  return ProviderInventories{it->second.rp.generation, it->second.inventories};
}

absl::StatusOr<int64_t> FakePlacement::SetInventories(
    const std::string& uuid, int64_t generation,
    const Inventories& inventories) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return absl::NotFoundError("no such provider");
  if (absl::Status s = CheckGeneration(it->second, generation); !s.ok()) {
    return s;
  }
  for (const auto& [rc, inv] : inventories) {
    if (inv.reserved > inv.total || inv.total < 1 || inv.max_unit < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("Placement: bad inventory of ", rc));
    }
  }
  for (const auto& [rc, old] : it->second.inventories) {
    if (!inventories.contains(rc) && Used(uuid, rc) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("Placement: inventory of ", rc, " in use"));
    }
  }
  it->second.inventories = inventories;
  return ++it->second.rp.generation;
}

absl::StatusOr<ProviderTraits> FakePlacement::GetTraits(
    const std::string& uuid) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return absl::NotFoundError("no such provider");
  return ProviderTraits{it->second.rp.generation, it->second.traits};
}

absl::StatusOr<int64_t> FakePlacement::SetTraits(
    const std::string& uuid, int64_t generation,
    const std::set<std::string>& traits) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = providers_.find(uuid);
  if (it == providers_.end()) return absl::NotFoundError("no such provider");
  if (absl::Status s = CheckGeneration(it->second, generation); !s.ok()) {
    return s;
  }
  for (const std::string& t : traits) {
    if (absl::StartsWith(t, "CUSTOM_") && !custom_traits_.contains(t)) {
      return absl::InvalidArgumentError(absl::StrCat("no trait ", t));
    }
  }
  it->second.traits = traits;
  return ++it->second.rp.generation;
}

absl::Status FakePlacement::EnsureTrait(const std::string& name) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  custom_traits_.insert(name);
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, Resources>>
FakePlacement::ProviderAllocations(const std::string& uuid) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  std::map<std::string, Resources> out;
  for (const auto& [consumer, by_rp] : allocations_) {
    auto it = by_rp.find(uuid);
    if (it != by_rp.end()) out[consumer] = it->second;
  }
  return out;
}

absl::Status FakePlacement::DeleteAllocations(const std::string& consumer) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  allocations_.erase(consumer);
  return absl::OkStatus();
}

absl::StatusOr<AllocationCandidates> FakePlacement::GetAllocationCandidates(
    const Resources& resources, const std::set<std::string>& forbidden,
    int limit) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const std::string& t : forbidden) {
    if (absl::StartsWith(t, "CUSTOM_") && !custom_traits_.contains(t)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Placement: No such trait(s): ", t));
    }
  }
  AllocationCandidates out;
  for (const auto& [uuid, p] : providers_) {
    if (limit > 0 && static_cast<int>(out.requests.size()) >= limit) break;
    bool excluded = false;
    for (const std::string& t : forbidden) excluded |= p.traits.contains(t);
    if (excluded || !Fits(p, resources)) continue;
    AllocationRequest a;
    a.allocations[uuid] = resources;
    out.requests.push_back(std::move(a));
  }
  return out;
}

absl::Status FakePlacement::ClaimAllocations(const std::string& consumer,
                                             const AllocationRequest& request,
                                             const std::string&,
                                             const std::string&) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  if (allocations_.contains(consumer)) {
    return absl::AbortedError("Placement: the consumer has allocations");
  }
  for (const auto& [rp, res] : request.allocations) {
    auto it = providers_.find(rp);
    if (it == providers_.end() || !Fits(it->second, res)) {
      return absl::AbortedError("Placement: not enough capacity");
    }
  }
  allocations_[consumer] = request.allocations;
  for (const auto& [rp, res] : request.allocations) {
    ++providers_[rp].rp.generation;
  }
  return absl::OkStatus();
}

void FakePlacement::SetAvailable(bool available) {
  absl::MutexLock l(&mu_);
  available_ = available;
}

void FakePlacement::Touch(const std::string& uuid) {
  absl::MutexLock l(&mu_);
  auto it = providers_.find(uuid);
  if (it != providers_.end()) ++it->second.rp.generation;
}

void FakePlacement::FailNextWrites(int n) {
  absl::MutexLock l(&mu_);
  fail_writes_ = n;
}

std::map<std::string, std::map<std::string, Resources>>
FakePlacement::Allocations() {
  absl::MutexLock l(&mu_);
  return allocations_;
}

int64_t FakePlacement::calls() {
  absl::MutexLock l(&mu_);
  return calls_;
}

}  // namespace zun::openstack
