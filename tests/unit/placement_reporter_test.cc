// PlacementReporter against the in-memory Placement: the provider and its
// inventory as zun-compute reports them, the disabled trait, generation
// conflicts, Placement outages, allocation releases and the heal.
#include "node/placement_reporter.h"

#include <catch2/catch.hpp>

#include "common/clock.h"
#include "openstack/fake_placement.h"
#include "tests/support/poll.h"

namespace zun::agent {
namespace {

using openstack::FakePlacement;
using openstack::kDisabledTrait;

constexpr char kRp[] = "11111111-2222-3333-4444-555555555555";

node::NodeResources Node() {
  node::NodeResources n;
  n.rp_uuid = kRp;
  n.name = "node-1";
  n.vcpus = 8;
  n.memory_mb = 16384;
  n.disk_gb = 100;
  return n;
}

struct World {
  SimulatedClock clock;
  FakePlacement placement;
  std::set<std::string> rows;  // uuids that have a running capsule's row
  // Capsules placed but never claimed (status Creating, no host).
  std::map<std::string, absl::Time> unclaimed;
  std::vector<std::string> adopted;
  std::vector<std::string> lost;
  std::unique_ptr<node::PlacementReporter> reporter;

  explicit World(node::PlacementReporterOptions o = {}) {
    reporter = std::make_unique<node::PlacementReporter>(
        placement, clock, o,
        [this](const std::vector<std::string>& consumers)
            -> absl::StatusOr<
                std::map<std::string, db::CapsuleStore::ContainerBrief>> {
          std::map<std::string, db::CapsuleStore::ContainerBrief> out;
          for (const auto& c : consumers) {
            db::CapsuleStore::ContainerBrief b;
            b.container_type = 1;
            if (rows.contains(c)) {
              b.status = "Running";
              b.host = "node-1";
              out[c] = b;
            } else if (auto it = unclaimed.find(c); it != unclaimed.end()) {
              b.status = "Creating";
              b.created_at = it->second;
              out[c] = b;
            }
          }
          return out;
        },
        [this](const std::string& rp) { adopted.push_back(rp); },
        [this](const std::string& uuid) { lost.push_back(uuid); });
  }
  openstack::Inventories Inventory() {
    return placement.GetInventories(kRp)->inventories;
  }
  std::set<std::string> Traits() { return placement.GetTraits(kRp)->traits; }
  void Claim(const std::string& consumer, int64_t vcpu = 1) {
    openstack::AllocationRequest a;
    a.allocations[kRp] = {{"VCPU", vcpu}, {"MEMORY_MB", 128}};
    REQUIRE(placement.ClaimAllocations(consumer, a, "p", "u").ok());
  }
};

TEST_CASE("the node becomes a provider with zun-compute's inventory",
          "[placement]") {
  node::PlacementReporterOptions o;
  o.reserved_host_cpus = 1;
  o.reserved_host_memory_mb = 512;
  o.reserved_host_disk_mb = 1500;  // rounds up to 2 GB
  o.cpu_allocation_ratio = 4.0;
  World w(o);
  w.reporter->Update(Node());
  REQUIRE(w.reporter->SyncOnce().ok());

  auto rp = w.placement.GetProvider(kRp);
  REQUIRE(rp.ok());
  REQUIRE(rp->has_value());
  CHECK((*rp)->name == "node-1");
  const openstack::Inventories inv = w.Inventory();
  REQUIRE(inv.size() == 3);
  CHECK(inv.at("VCPU") == openstack::Inventory{8, 1, 1, 8, 1, 4.0});
  CHECK(inv.at("MEMORY_MB") ==
        openstack::Inventory{16384, 512, 1, 16384, 1, 1.5});
  CHECK(inv.at("DISK_GB") == openstack::Inventory{100, 2, 1, 100, 1, 1.0});
  CHECK(w.Traits().empty());
  // The trait exists for Zun's scheduler to forbid, though no node is
  // disabled.
  CHECK(w.placement.GetAllocationCandidates({{"VCPU", 1}}, {kDisabledTrait}, 10)
            .ok());

  // Nothing changed: no write.
  const int64_t gen = (*w.placement.GetProvider(kRp))->generation;
  REQUIRE(w.reporter->SyncOnce().ok());
  CHECK((*w.placement.GetProvider(kRp))->generation == gen);
}

TEST_CASE("unset ratios keep the provider's, then the initial ones",
          "[placement]") {
  World w;
  REQUIRE(w.placement.CreateProvider(kRp, "node-1").ok());
  REQUIRE(w.placement
              .SetInventories(
                  kRp, 0, {{"VCPU", openstack::Inventory{8, 0, 1, 8, 1, 2.0}}})
              .ok());
  w.reporter->Update(Node());
  REQUIRE(w.reporter->SyncOnce().ok());
  CHECK(w.Inventory().at("VCPU").allocation_ratio == 2.0);       // kept
  CHECK(w.Inventory().at("MEMORY_MB").allocation_ratio == 1.5);  // initial
}

TEST_CASE("reserved never exceeds the total and empty classes stay out",
          "[placement]") {
  node::PlacementReporterOptions o;
  o.reserved_host_cpus = 64;
  node::NodeResources n = Node();
  n.disk_gb = 0;
  const openstack::Inventories inv = DesiredInventories(n, o, {});
  CHECK(inv.at("VCPU").reserved == 8);
  CHECK_FALSE(inv.contains("DISK_GB"));
}

TEST_CASE("the disabled trait follows zun_service.disabled", "[placement]") {
  World w;
  node::NodeResources n = Node();
  n.disabled = true;
  w.reporter->Update(n);
  REQUIRE(w.reporter->SyncOnce().ok());
  CHECK(w.Traits() == std::set<std::string>{kDisabledTrait});
  // Traits set by others stay.
  auto t = w.placement.GetTraits(kRp);
  REQUIRE(
      w.placement
          .SetTraits(kRp, t->generation, {kDisabledTrait, "HW_CPU_X86_AVX2"})
          .ok());
  n.disabled = false;
  w.reporter->Update(n);
  REQUIRE(w.reporter->SyncOnce().ok());
  CHECK(w.Traits() == std::set<std::string>{"HW_CPU_X86_AVX2"});
}

TEST_CASE("generation conflicts are re-read and retried", "[placement]") {
  World w;
  w.reporter->Update(Node());
  w.placement.FailNextWrites(2);
  REQUIRE(w.reporter->SyncOnce().ok());
  CHECK(w.reporter->counters().conflicts == 2);
  CHECK(w.Inventory().size() == 3);

  // A provider that keeps moving: bounded, reported, retried next pass.
  node::NodeResources n = Node();
  n.vcpus = 16;
  w.reporter->Update(n);
  w.placement.FailNextWrites(100);
  absl::Status s = w.reporter->SyncOnce();
  CHECK(absl::IsAborted(s));
  w.placement.FailNextWrites(0);
  REQUIRE(w.reporter->SyncOnce().ok());
  CHECK(w.Inventory().at("VCPU").total == 16);
}

TEST_CASE("a Placement outage is reported and survived", "[placement]") {
  World w;
  w.placement.SetAvailable(false);
  w.reporter->Update(Node());
  CHECK(absl::IsUnavailable(w.reporter->SyncOnce()));
  w.reporter->Release("gone-1");
  CHECK(absl::IsUnavailable(w.reporter->ReleasePending()));
  CHECK(w.reporter->health().pending_releases == 1);
  w.placement.SetAvailable(true);
  REQUIRE(w.reporter->SyncOnce().ok());
  REQUIRE(w.reporter->ReleasePending().ok());
  CHECK(w.reporter->health().pending_releases == 0);
}

TEST_CASE("released allocations go, and the heal finds leaked ones",
          "[placement]") {
  World w;
  w.reporter->Update(Node());
  REQUIRE(w.reporter->SyncOnce().ok());
  w.Claim("deleted-capsule");
  w.Claim("live-capsule");
  w.Claim("row-gone-capsule");
  w.rows = {"live-capsule"};
  w.reporter->Release("deleted-capsule");
  REQUIRE(w.reporter->ReleasePending().ok());
  CHECK_FALSE(w.placement.Allocations().contains("deleted-capsule"));
  REQUIRE(w.reporter->Heal().ok());
  auto left = w.placement.Allocations();
  CHECK(left.size() == 1);
  CHECK(left.contains("live-capsule"));
  CHECK(w.reporter->counters().allocations_healed == 1);
}

TEST_CASE("a placed capsule whose create never arrived is created",
          "[placement]") {
  node::PlacementReporterOptions o;
  o.lost_create_grace = absl::Seconds(60);
  World w(o);
  w.reporter->Update(Node());
  REQUIRE(w.reporter->SyncOnce().ok());
  w.Claim("lost-cast");
  w.Claim("just-placed");
  w.unclaimed["lost-cast"] = w.clock.Now() - absl::Seconds(61);
  w.unclaimed["just-placed"] = w.clock.Now() - absl::Seconds(5);
  REQUIRE(w.reporter->Heal().ok());
  CHECK(w.lost == std::vector<std::string>{"lost-cast"});
  CHECK(w.placement.Allocations().size() == 2);  // both are kept
  CHECK(w.reporter->counters().lost_creates == 1);
  w.clock.AdvanceTime(absl::Seconds(60));
  REQUIRE(w.reporter->Heal().ok());
  CHECK(w.lost.size() == 3);  // asked again until claimed; now both
}

TEST_CASE("a provider shared with Nova is adopted, never healed",
          "[placement]") {
  constexpr char kNova[] = "99999999-2222-3333-4444-555555555555";
  SECTION("not shared: the name clash is an error") {
    World w;
    REQUIRE(w.placement.CreateProvider(kNova, "node-1").ok());
    w.reporter->Update(Node());
    absl::Status s = w.reporter->SyncOnce();
    CHECK(absl::IsFailedPrecondition(s));
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("host_shared_with_nova"));
  }
  SECTION("shared: its uuid is used and handed on") {
    node::PlacementReporterOptions o;
    o.host_shared_with_nova = true;
    World w(o);
    REQUIRE(w.placement.CreateProvider(kNova, "node-1").ok());
    w.reporter->Update(Node());
    REQUIRE(w.reporter->SyncOnce().ok());
    CHECK(w.adopted == std::vector<std::string>{kNova});
    CHECK(w.placement.GetInventories(kNova)->inventories.size() == 3);
    openstack::AllocationRequest a;
    a.allocations[kNova] = {{"VCPU", 1}};
    REQUIRE(w.placement.ClaimAllocations("nova-instance", a, "p", "u").ok());
    REQUIRE(w.reporter->Heal().ok());
    CHECK(w.placement.Allocations().contains("nova-instance"));
  }
}

TEST_CASE("the loop reports at once and retries with backoff", "[placement]") {
  World w;
  w.placement.SetAvailable(false);
  w.reporter->Start();
  w.reporter->Update(Node());
  REQUIRE(testing::PollUntil(
      [&] { return w.reporter->counters().passes_failed >= 1; }));
  CHECK_FALSE(w.reporter->health().ok);
  CHECK_FALSE(w.reporter->Check().ok());
  w.placement.SetAvailable(true);
  // The retry waits for the (simulated) backoff.
  REQUIRE(testing::PollUntil([&] {
    w.clock.AdvanceTime(absl::Seconds(5));
    return w.reporter->health().ok;
  }));
  CHECK(w.reporter->Check().ok());
  CHECK(w.Inventory().size() == 3);
  w.reporter->Stop();
}

}  // namespace
}  // namespace zun::agent
