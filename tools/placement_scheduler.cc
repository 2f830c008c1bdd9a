#include "tools/placement_scheduler.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace zun::tools {

openstack::Resources ResourcesFor(const capsule::Capsule& c) {
  constexpr double kDefaultCpu = 1.0;      // [DEFAULT] default_cpu
  constexpr int64_t kDefaultMemory = 512;  // [DEFAULT] default_memory (MiB)
  const double cpu = c.record.cpu.value_or(0) > 0 ? *c.record.cpu : kDefaultCpu;
  int64_t memory = 0;
  if (c.record.memory && !absl::SimpleAtoi(*c.record.memory, &memory)) {
    memory = 0;
  }
  openstack::Resources r;
  r["VCPU"] = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(cpu)));
  r["MEMORY_MB"] = std::max<int64_t>(1, memory > 0 ? memory : kDefaultMemory);
  if (c.record.disk.value_or(0) > 0) r["DISK_GB"] = *c.record.disk;
  return r;
}

absl::StatusOr<std::string> ScheduleCapsule(
    openstack::PlacementClient& placement, db::ApiStore& api,
    const ScheduleRequest& req) {
  std::string only_rp;
  if (!req.host.empty()) {
    absl::StatusOr<std::string> rp = api.ProviderOf(req.host);
    if (!rp.ok()) {
      return absl::ResourceExhaustedError(
          absl::StrCat(kNoValidHost, " (", rp.status().message(), ")"));
    }
    only_rp = *rp;
  }
  // Placement refuses a query naming a trait it does not know; the agents
  // create it, but maybe none has reported yet.
  if (absl::Status s = placement.EnsureTrait(openstack::kDisabledTrait);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<openstack::AllocationCandidates> candidates =
      placement.GetAllocationCandidates(
          req.resources, {openstack::kDisabledTrait}, /*limit=*/1000);
  if (!candidates.ok()) return candidates.status();
  // One allocation request per root provider: the compute node.
  std::vector<std::string> rps;
  std::map<std::string, const openstack::AllocationRequest*> by_rp;
  for (const openstack::AllocationRequest& a : candidates->requests) {
    if (a.allocations.size() != 1) continue;  // no sharing providers here
    const std::string& rp = a.allocations.begin()->first;
    if (!only_rp.empty() && rp != only_rp) continue;
    if (by_rp.emplace(rp, &a).second) rps.push_back(rp);
  }
  absl::StatusOr<std::map<std::string, std::string>> hosts =
      api.SchedulableHosts(rps, req.service_down_time);
  if (!hosts.ok()) return hosts.status();
  std::vector<std::string> eligible;
  for (const std::string& rp : rps) {
    if (hosts->contains(rp)) eligible.push_back(rp);
  }
  std::shuffle(eligible.begin(), eligible.end(),
               std::mt19937(std::random_device{}()));
  for (size_t i = 0; i < eligible.size() && i < 4; ++i) {
    const std::string& rp = eligible[i];
    absl::Status s = placement.ClaimAllocations(req.consumer, *by_rp.at(rp),
                                                req.project_id, req.user_id);
    if (s.ok()) return hosts->at(rp);
    if (!absl::IsAborted(s)) return s;
  }
  return absl::ResourceExhaustedError(kNoValidHost);
}

}  // namespace zun::tools
