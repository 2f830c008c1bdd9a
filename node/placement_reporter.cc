#include "node/placement_reporter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace zun::node {
namespace {

using openstack::Inventories;
using openstack::Inventory;

double Ratio(const std::optional<double>& configured,
             const Inventories& current, const char* rc, double initial) {
  if (configured && *configured > 0) return *configured;
  auto it = current.find(rc);
  if (it != current.end() && it->second.allocation_ratio > 0) {
    return it->second.allocation_ratio;
  }
  return initial;
}

void Add(Inventories& out, const char* rc, int64_t total, int64_t reserved,
         double ratio) {
  if (total <= 0) return;
  Inventory inv;
  inv.total = total;
  inv.reserved = std::clamp<int64_t>(reserved, 0, total);
  inv.min_unit = 1;
  inv.max_unit = total;
  inv.step_size = 1;
  inv.allocation_ratio = ratio;
  out[rc] = inv;
}

bool Transient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsAborted(s);
}

}  // namespace

Inventories DesiredInventories(const NodeResources& node,
                               const PlacementReporterOptions& o,
                               const Inventories& current) {
  Inventories out;
  Add(out, "VCPU", node.vcpus, o.reserved_host_cpus,
      Ratio(o.cpu_allocation_ratio, current, "VCPU",
            o.initial_cpu_allocation_ratio));
  Add(out, "MEMORY_MB", node.memory_mb, o.reserved_host_memory_mb,
      Ratio(o.ram_allocation_ratio, current, "MEMORY_MB",
            o.initial_ram_allocation_ratio));
  Add(out, "DISK_GB", node.disk_gb, (o.reserved_host_disk_mb + 1023) / 1024,
      Ratio(o.disk_allocation_ratio, current, "DISK_GB",
            o.initial_disk_allocation_ratio));
  return out;
}

PlacementReporter::PlacementReporter(openstack::PlacementClient& placement,
                                     Clock& clock,
                                     PlacementReporterOptions options,
                                     ConsumerRows rows, OnAdopt on_adopt,
                                     OnLostCreate on_lost_create)
    : placement_(placement),
      clock_(clock),
      options_(std::move(options)),
      rows_(std::move(rows)),
      on_adopt_(std::move(on_adopt)),
      on_lost_create_(std::move(on_lost_create)),
      loop_(clock, "placement"),
      backoff_(options_.retry,
               static_cast<uint64_t>(absl::ToUnixNanos(clock.Now()))) {}

PlacementReporter::~PlacementReporter() { Stop(); }

void PlacementReporter::Start() {
  loop_.Start();
  {
    absl::MutexLock l(&mu_);
    pass_queued_ = true;
  }
  loop_.Post([this] { Pass(); });
}

void PlacementReporter::Stop() { loop_.Stop(); }

void PlacementReporter::Update(NodeResources node) {
  {
    absl::MutexLock l(&mu_);
    if (node_ == node) return;
    node_ = std::move(node);
    if (pass_queued_) return;
    pass_queued_ = true;
  }
  loop_.Post([this] { Pass(); });
}

void PlacementReporter::Release(const std::string& consumer) {
  {
    absl::MutexLock l(&mu_);
    releases_.insert(consumer);
    health_.pending_releases = releases_.size();
    if (pass_queued_) return;
    pass_queued_ = true;
  }
  loop_.Post([this] { Pass(); });
}

void PlacementReporter::ScheduleNext(absl::Duration d) {
  if (next_pass_) loop_.Cancel(*next_pass_);
  next_pass_ = loop_.RunAfter(d, [this] {
    next_pass_.reset();
    {
      absl::MutexLock l(&mu_);
      pass_queued_ = true;
    }
    Pass();
  });
}

void PlacementReporter::Pass() {
  {
    absl::MutexLock l(&mu_);
    pass_queued_ = false;
  }
  absl::Status s = SyncOnce();
  if (s.ok()) s = ReleasePending();
  bool heal_due = false;
  {
    absl::MutexLock l(&mu_);
    heal_due = clock_.Now() - healed_at_ >= HealInterval();
  }
  if (s.ok() && heal_due) s = Heal();
  absl::Duration next;
  {
    absl::MutexLock l(&mu_);
    if (s.ok()) {
      ++counters_.passes_ok;
      if (!health_.ok && !health_.error.empty()) {
        ZUN_LOG(kAgent, info, "Placement: reporting again");
      }
      health_.ok = true;
      health_.error.clear();
      health_.last_ok = clock_.Now();
      backoff_.Reset();
      next = std::min(options_.refresh_interval, HealInterval());
    } else {
      ++counters_.passes_failed;
      if (health_.ok || health_.error != s.message()) {
        ZUN_LOG(kAgent, warn, "Placement reporting failed: {} (retrying)",
                s.message());
      }
      health_.ok = false;
      health_.error = std::string(s.message());
      next = backoff_.Next();
    }
  }
  ScheduleNext(next);
}

absl::Duration PlacementReporter::HealInterval() const {
  // Lost creates are looked for as often as they may appear.
  return on_lost_create_
             ? std::min(options_.refresh_interval, options_.lost_create_grace)
             : options_.refresh_interval;
}

absl::Status PlacementReporter::EnsureProvider(NodeResources& node) {
  absl::StatusOr<std::optional<openstack::ResourceProvider>> rp =
      placement_.GetProvider(node.rp_uuid);
  if (!rp.ok()) return rp.status();
  if (rp->has_value()) return absl::OkStatus();
  absl::StatusOr<openstack::ResourceProvider> created =
      placement_.CreateProvider(node.rp_uuid, node.name);
  if (created.ok()) {
    ZUN_LOG(kAgent, info, "Placement: created resource provider {} ({})",
            node.rp_uuid, node.name);
    return absl::OkStatus();
  }
  if (!absl::IsAlreadyExists(created.status())) return created.status();
  absl::StatusOr<std::vector<openstack::ResourceProvider>> named =
      placement_.FindProviders(node.name);
  if (!named.ok()) return named.status();
  if (named->empty()) return created.status();  // raced: try again later
  const std::string other = named->front().uuid;
  if (!options_.host_shared_with_nova) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resource provider '", node.name, "' exists with uuid ", other,
        ", not this node's ", node.rp_uuid,
        " (another service's? set [compute] host_shared_with_nova = true "
        "to share it, or remove it)"));
  }
  ZUN_LOG(kAgent, info,
          "Placement: sharing resource provider {} of '{}' "
          "(host_shared_with_nova)",
          other, node.name);
  node.rp_uuid = other;
  {
    absl::MutexLock l(&mu_);
    if (node_) node_->rp_uuid = other;
  }
  if (on_adopt_) on_adopt_(other);
  return absl::OkStatus();
}

absl::Status PlacementReporter::SyncInventory(const NodeResources& node) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<openstack::ProviderInventories> cur =
        placement_.GetInventories(node.rp_uuid);
    if (!cur.ok()) return cur.status();
    const Inventories want =
        DesiredInventories(node, options_, cur->inventories);
    if (want == cur->inventories) return absl::OkStatus();
    absl::StatusOr<int64_t> gen =
        placement_.SetInventories(node.rp_uuid, cur->generation, want);
    if (gen.ok()) {
      absl::MutexLock l(&mu_);
      ++counters_.inventory_updates;
      return absl::OkStatus();
    }
    if (!absl::IsAborted(gen.status()) ||
        attempt >= options_.max_conflict_retries) {
      return gen.status();
    }
    absl::MutexLock l(&mu_);
    ++counters_.conflicts;
  }
}

absl::Status PlacementReporter::SyncTraits(const NodeResources& node) {
  // The trait must exist even while no node is disabled: Zun's scheduler
  // forbids it in every candidate query, and Placement refuses a query
  // naming a trait it does not know (400 "No such trait").
  bool created = false;
  {
    absl::MutexLock l(&mu_);
    created = trait_created_;
  }
  if (!created) {
    if (absl::Status s = placement_.EnsureTrait(openstack::kDisabledTrait);
        !s.ok()) {
      return s;
    }
    absl::MutexLock l(&mu_);
    trait_created_ = true;
  }
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<openstack::ProviderTraits> cur =
        placement_.GetTraits(node.rp_uuid);
    if (!cur.ok()) return cur.status();
    std::set<std::string> want = cur->traits;
    if (node.disabled) {
      want.insert(openstack::kDisabledTrait);
    } else {
      want.erase(openstack::kDisabledTrait);
    }
    if (want == cur->traits) return absl::OkStatus();
    absl::StatusOr<int64_t> gen =
        placement_.SetTraits(node.rp_uuid, cur->generation, want);
    if (gen.ok()) {
      ZUN_LOG(kAgent, info, "Placement: {} {}",
              node.disabled ? "set" : "cleared", openstack::kDisabledTrait);
      absl::MutexLock l(&mu_);
      ++counters_.trait_updates;
      return absl::OkStatus();
    }
    if (!absl::IsAborted(gen.status()) ||
        attempt >= options_.max_conflict_retries) {
      return gen.status();
    }
    absl::MutexLock l(&mu_);
    ++counters_.conflicts;
  }
}

absl::Status PlacementReporter::SyncOnce() {
  std::optional<NodeResources> node;
  {
    absl::MutexLock l(&mu_);
    if (!node_) return absl::OkStatus();  // nothing to report yet
    if (synced_ == node_ &&
        clock_.Now() - synced_at_ < options_.refresh_interval) {
      return absl::OkStatus();
    }
    node = node_;
  }
  if (absl::Status s = EnsureProvider(*node); !s.ok()) return s;
  if (absl::Status s = SyncInventory(*node); !s.ok()) return s;
  if (absl::Status s = SyncTraits(*node); !s.ok()) return s;
  absl::MutexLock l(&mu_);
  synced_ = node;
  synced_at_ = clock_.Now();
  health_.rp_uuid = node->rp_uuid;
  return absl::OkStatus();
}

absl::Status PlacementReporter::ReleasePending() {
  std::set<std::string> todo;
  {
    absl::MutexLock l(&mu_);
    todo = releases_;
  }
  absl::Status first;
  for (const std::string& consumer : todo) {
    absl::Status s = placement_.DeleteAllocations(consumer);
    absl::MutexLock l(&mu_);
    if (s.ok()) {
      releases_.erase(consumer);
      ++counters_.allocations_released;
      ZUN_LOG(kAgent, debug, "Placement: released the allocations of {}",
              consumer);
    } else if (first.ok()) {
      first = s;
      if (!Transient(s)) {
        // Refused for good (e.g. forbidden): keep trying, but say it.
        ZUN_LOG(kAgent, warn, "Placement: cannot release {}: {}", consumer,
                s.message());
      }
    }
    health_.pending_releases = releases_.size();
  }
  return first;
}

absl::Status PlacementReporter::Heal() {
  std::string rp;
  {
    absl::MutexLock l(&mu_);
    if (!synced_) return absl::OkStatus();
    rp = synced_->rp_uuid;
  }
  if (!rows_) {
    absl::MutexLock l(&mu_);
    healed_at_ = clock_.Now();
    return absl::OkStatus();
  }
  absl::StatusOr<std::map<std::string, openstack::Resources>> allocs =
      placement_.ProviderAllocations(rp);
  if (!allocs.ok()) return allocs.status();
  std::vector<std::string> consumers;
  for (const auto& [consumer, res] : *allocs) consumers.push_back(consumer);
  if (!consumers.empty()) {
    absl::StatusOr<std::map<std::string, db::CapsuleStore::ContainerBrief>>
        rows = rows_(consumers);
    if (!rows.ok()) return rows.status();
    const absl::Time now = clock_.Now();
    for (const std::string& consumer : consumers) {
      auto row = rows->find(consumer);
      if (row == rows->end()) {
        // Another service's consumers look the same: leave them alone.
        if (options_.host_shared_with_nova) continue;
        if (absl::Status s = placement_.DeleteAllocations(consumer); !s.ok()) {
          return s;
        }
        ZUN_LOG(kAgent, info,
                "Placement: released the allocation of {}: no capsule has "
                "this uuid any more",
                consumer);
        absl::MutexLock l(&mu_);
        ++counters_.allocations_healed;
        continue;
      }
      const db::CapsuleStore::ContainerBrief& b = row->second;
      const bool unclaimed = b.container_type == 1 && b.status == "Creating" &&
                             (!b.host || b.host->empty()) && !b.task_state;
      if (unclaimed && on_lost_create_ && b.created_at &&
          *b.created_at + options_.lost_create_grace <= now) {
        ZUN_LOG(kAgent, warn,
                "capsule {} was placed on this node {} ago but its create "
                "never arrived (a lost cast): creating it",
                consumer, absl::FormatDuration(now - *b.created_at));
        on_lost_create_(consumer);
        absl::MutexLock l(&mu_);
        ++counters_.lost_creates;
      }
    }
  }
  absl::MutexLock l(&mu_);
  healed_at_ = clock_.Now();
  return absl::OkStatus();
}

PlacementReporter::Health PlacementReporter::health() {
  absl::MutexLock l(&mu_);
  return health_;
}

absl::Status PlacementReporter::Check() {
  absl::MutexLock l(&mu_);
  if (health_.ok) return absl::OkStatus();
  if (health_.error.empty()) return absl::UnavailableError("not reported yet");
  return absl::UnavailableError(health_.error);
}

PlacementReporter::Counters PlacementReporter::counters() {
  absl::MutexLock l(&mu_);
  return counters_;
}

}  // namespace zun::node
