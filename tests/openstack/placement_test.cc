// The agent in a Zun cloud's control plane, against real Keystone and
// Placement (Debian's python3-keystone and python3-placement, started once
// for the suite by the `openstack` fixture): its resource provider and
// inventory, the disabled trait, scheduling through Placement by
// zun-capsule, allocations released by every end of a capsule, a Placement
// restart, and a revoked token.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/uuid.h"
#include "tests/support/agent_harness.h"
#include "tests/support/capsule_cli.h"
#include "tests/support/http.h"
#include "tests/support/openstack_env.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

using openstack::kDisabledTrait;

// The provider of `h`'s node once the agent registered it ("" if not yet).
std::string ProviderOf(TestPlacement& placement, AgentHarness& h) {
  auto rps = placement->FindProviders(h.host());
  if (!rps.ok() || rps->empty()) return "";
  return rps->front().uuid;
}

// consumer -> provider of its allocation, for the providers given.
std::map<std::string, std::string> AllocationsOn(
    TestPlacement& placement, const std::vector<std::string>& rps) {
  std::map<std::string, std::string> out;
  for (const std::string& rp : rps) {
    auto a = placement->ProviderAllocations(rp);
    if (!a.ok()) continue;
    for (const auto& [consumer, res] : *a) out[consumer] = rp;
  }
  return out;
}

void Claim(TestPlacement& placement, const std::string& consumer,
           const std::string& rp) {
  openstack::AllocationRequest a;
  a.allocations[rp] = {{"VCPU", 1}, {"MEMORY_MB", 64}};
  REQUIRE(placement->ClaimAllocations(consumer, a, "proj", "user").ok());
}

HarnessOptions WithKeystone(const std::string& extra = "") {
  HarnessOptions o;
  o.extra_config = OpenStackEnv::Get().KeystoneAuthConfig() + extra;
  return o;
}

TEST_CASE("the node is a provider with its inventory and disabled trait") {
  TestPlacement placement;
  AgentHarness h(WithKeystone(
      "[compute]\nreserved_host_cpus = 1\nreserved_host_memory_mb = 256\n"
      "reserved_host_disk_mb = 1500\ncpu_allocation_ratio = 4.0\n"));
  std::string rp;
  REQUIRE(PollUntil([&] {
    rp = ProviderOf(placement, h);
    return !rp.empty() &&
           placement->GetInventories(rp)->inventories.size() == 3;
  }));
  auto node = h.db().Query(
      "SELECT rp_uuid, cpus, mem_total FROM compute_node WHERE hostname = '" +
      h.host() + "'");
  REQUIRE(node.size() == 1);
  CHECK(node[0].at("rp_uuid") == rp);
  const auto inv = placement->GetInventories(rp)->inventories;
  const openstack::Inventory& vcpu = inv.at("VCPU");
  CHECK(std::to_string(vcpu.total) == node[0].at("cpus"));
  CHECK(vcpu.reserved == std::min<int64_t>(1, vcpu.total));
  CHECK(vcpu.max_unit == vcpu.total);
  CHECK(vcpu.allocation_ratio == 4.0);
  const openstack::Inventory& mem = inv.at("MEMORY_MB");
  CHECK(std::to_string(mem.total) == node[0].at("mem_total"));
  CHECK(mem.reserved == 256);
  CHECK(mem.allocation_ratio == 1.5);  // initial_ram_allocation_ratio
  CHECK(inv.at("DISK_GB").reserved == 2);
  CHECK(inv.at("DISK_GB").allocation_ratio == 1.0);
  CHECK(placement->GetTraits(rp)->traits.count(kDisabledTrait) == 0);

  // The operator disables the service: the scheduler must skip the node.
  h.db().Exec(
      "UPDATE zun_service SET disabled = true, disabled_reason = "
      "'maintenance' WHERE host = '" +
      h.host() + "'");
  REQUIRE(PollUntil([&] {
    return placement->GetTraits(rp)->traits.count(kDisabledTrait) == 1;
  }));
  auto candidates =
      placement->GetAllocationCandidates({{"VCPU", 1}}, {kDisabledTrait}, 1000);
  REQUIRE(candidates.ok());
  for (const auto& c : candidates->requests)
    CHECK_FALSE(c.allocations.contains(rp));
  h.db().Exec("UPDATE zun_service SET disabled = false WHERE host = '" +
              h.host() + "'");
  REQUIRE(PollUntil([&] {
    return placement->GetTraits(rp)->traits.count(kDisabledTrait) == 0;
  }));
}

TEST_CASE(
    "zun-capsule schedules through Placement, and every end of a "
    "capsule releases its allocation") {
  TestPlacement placement;
  AgentHarness h1(WithKeystone());
  HarnessOptions o2 = WithKeystone();
  o2.agent_db_connection = h1.db().url();  // one Zun database, two nodes
  AgentHarness h2(o2);
  std::string rp1, rp2;
  REQUIRE(PollUntil([&] {
    rp1 = ProviderOf(placement, h1);
    rp2 = ProviderOf(placement, h2);
    return !rp1.empty() && !rp2.empty() &&
           placement->GetInventories(rp2)->inventories.size() == 3 &&
           placement->GetInventories(rp1)->inventories.size() == 3;
  }));
  REQUIRE(h1.WaitServing());

  SECTION("create and delete") {
    CommandResult r =
        ZunCapsule(h1.config_path(),
                   {"--json", "create", "-f", SampleTemplate("minimal.json")});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string uuid = JsonOf(r.output)["uuid"];
    REQUIRE(PollUntil([&] { return h1.StatusOf(uuid) == "Running"; }));
    const std::string host = h1.CapsuleRow(uuid)->at("host").value_or("");
    CHECK((host == h1.host() || host == h2.host()));
    auto on = AllocationsOn(placement, {rp1, rp2});
    REQUIRE(on.contains(uuid));
    CHECK(on.at(uuid) == (host == h1.host() ? rp1 : rp2));
    // minimal.json asks nothing: Zun's defaults, 1 VCPU and 512 MiB.
    auto mine = placement->ProviderAllocations(on.at(uuid));
    CHECK(mine->at(uuid) ==
          openstack::Resources{{"MEMORY_MB", 512}, {"VCPU", 1}});

    r = ZunCapsule(h1.config_path(), {"delete", uuid});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    REQUIRE(PollUntil([&] { return !h1.CapsuleRow(uuid).has_value(); }));
    REQUIRE(PollUntil([&] {
      return !AllocationsOn(placement, {rp1, rp2}).contains(uuid);
    }));
  }

  SECTION("a failed create") {
    capsule::ContainerRecord bad =
        AgentHarness::Child("absent", {"sleep", "3600"});
    bad.image = "registry.example/absent:1";
    bad.image_pull_policy = "never";
    capsule::Capsule c;
    c.containers = {bad};
    c = h1.CreateCapsule(c);
    Claim(placement, c.uuid(), rp1);
    REQUIRE(h1.CastCreate(c).ok());
    REQUIRE(PollUntil([&] { return h1.StatusOf(c.uuid()) == "Error"; }));
    REQUIRE(PollUntil(
        [&] { return !AllocationsOn(placement, {rp1}).contains(c.uuid()); }));
  }

  SECTION("a refused create: a plain container") {
    const std::string uuid = NewUuid4();
    h1.db().Exec(absl::StrCat(
        "INSERT INTO container (uuid, name, image, status, container_type, "
        "project_id, user_id, created_at) VALUES ('",
        uuid, "', 'plain', 'busybox', 'Creating', 0, 'proj', 'user', now())"));
    Claim(placement, uuid, rp1);
    nlohmann::json container = {{"zun_object.name", "Container"},
                                {"zun_object.namespace", "zun"},
                                {"zun_object.version", "1.44"},
                                {"zun_object.data",
                                 {{"uuid", uuid},
                                  {"name", "plain"},
                                  {"image", "busybox"},
                                  {"status", "Creating"},
                                  {"project_id", "proj"},
                                  {"user_id", "user"}}}};
    REQUIRE(h1.Cast("container_create",
                    {{"limits", nlohmann::json::object()},
                     {"requested_networks", nlohmann::json::array()},
                     {"requested_volumes", nlohmann::json::object()},
                     {"container", container},
                     {"run", true},
                     {"pci_requests", nullptr}})
                .ok());
    REQUIRE(PollUntil([&] { return h1.StatusOf(uuid) == "Error"; }));
    CHECK_THAT(h1.CapsuleRow(uuid)->at("status_reason").value_or(""),
               Catch::Contains("this node runs capsules only"));
    REQUIRE(PollUntil(
        [&] { return !AllocationsOn(placement, {rp1}).contains(uuid); }));
  }

  SECTION("no host fits") {
    h1.db().Exec("UPDATE zun_service SET disabled = true");
    REQUIRE(PollUntil([&] {
      return placement->GetTraits(rp1)->traits.count(kDisabledTrait) == 1 &&
             placement->GetTraits(rp2)->traits.count(kDisabledTrait) == 1;
    }));
    CommandResult r =
        ZunCapsule(h1.config_path(),
                   {"--json", "create", "-f", SampleTemplate("minimal.json")});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output,
               Catch::Contains("There are not enough hosts available."));
    auto rows = h1.db().Query(
        "SELECT status, status_reason, host FROM container WHERE "
        "container_type = 1");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("status") == "Error");
    CHECK_FALSE(rows[0].at("host").has_value());
  }
}

TEST_CASE("a Placement restart is survived, and releases wait for it") {
  const OpenStackEnv& env = OpenStackEnv::Get();
  TestPlacement placement;
  HarnessOptions o = WithKeystone();
  o.metrics_port = FreeTcpPort();
  AgentHarness h(o);
  std::string rp;
  REQUIRE(PollUntil([&] {
    rp = ProviderOf(placement, h);
    return !rp.empty() &&
           MetricOf(o.metrics_port, "zun_agent_placement_up") == 1;
  }));
  REQUIRE(h.WaitServing());
  capsule::Capsule c;
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  Claim(placement, c.uuid(), rp);
  REQUIRE(h.CastCreate(c).ok());
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));

  REQUIRE(env.StopPlacement().ok());
  // The next pass finds it gone: reported, not fatal.
  h.db().Exec("UPDATE zun_service SET disabled = true WHERE host = '" +
              h.host() + "'");
  REQUIRE(PollUntil(
      [&] { return MetricOf(o.metrics_port, "zun_agent_placement_up") == 0; }));
  absl::StatusOr<HttpResponse> health =
      HttpRequest(o.metrics_port, "GET", "/healthz");
  REQUIRE(health.ok());
  CHECK(health->status == 200);
  CHECK_THAT(health->body, Catch::Contains("\"placement\""));
  REQUIRE(h.CastDelete(c).ok());
  REQUIRE(PollUntil([&] { return !h.CapsuleRow(c.uuid()).has_value(); }));
  // The release is queued just after the row's delete commits.
  CHECK(PollUntil([&] {
    return MetricOf(o.metrics_port, "zun_agent_placement_pending_releases") ==
           1;
  }));

  REQUIRE(env.StartPlacement().ok());
  REQUIRE(PollUntil(
      [&] {
        return MetricOf(o.metrics_port, "zun_agent_placement_up") == 1 &&
               !AllocationsOn(placement, {rp}).contains(c.uuid()) &&
               placement->GetTraits(rp)->traits.count(kDisabledTrait) == 1;
      },
      absl::Seconds(120)));
  CHECK(MetricOf(o.metrics_port, "zun_agent_placement_pending_releases") == 0);
}

TEST_CASE("a revoked token is replaced by a new one") {
  KeystoneAdmin admin;
  const std::string user = "agent-" + NewUuid4Hex().substr(0, 8);
  absl::StatusOr<std::string> id = admin.CreateServiceUser(user, "pw-" + user);
  REQUIRE(id.ok());
  TestPlacement placement;
  HarnessOptions o;
  o.metrics_port = FreeTcpPort();
  o.extra_config = OpenStackEnv::Get().KeystoneAuthConfig(user, "pw-" + user);
  AgentHarness h(o);
  std::string rp;
  REQUIRE(PollUntil([&] {
    rp = ProviderOf(placement, h);
    return !rp.empty() &&
           MetricOf(o.metrics_port, "zun_agent_placement_up") == 1;
  }));
  CHECK(MetricOf(o.metrics_port, "zun_agent_keystone_authentications_total") ==
        1);
  // Disabling a user revokes its tokens; it can log in again once enabled.
  REQUIRE(admin.SetUserEnabled(*id, false).ok());
  REQUIRE(admin.SetUserEnabled(*id, true).ok());
  h.db().Exec("UPDATE zun_service SET disabled = true WHERE host = '" +
              h.host() + "'");
  REQUIRE(PollUntil([&] {
    return placement->GetTraits(rp)->traits.count(kDisabledTrait) == 1;
  }));
  CHECK(MetricOf(o.metrics_port, "zun_agent_keystone_authentications_total") >=
        2);
  // The Keystone password is in no log line, metric or health report.
  const std::string secret = "pw-" + user;
  CHECK_THAT(ReadFile(h.agent()->log_path()), !Catch::Contains(secret));
  CHECK_THAT(HttpRequest(o.metrics_port, "GET", "/metrics")->body,
             !Catch::Contains(secret));
  CHECK_THAT(HttpRequest(o.metrics_port, "GET", "/healthz")->body,
             !Catch::Contains(secret));
}

TEST_CASE("a capsule placed here whose create cast was lost is created") {
  TestPlacement placement;
  AgentHarness h(WithKeystone("[compute]\nlost_create_grace_period = 2\n"));
  std::string rp;
  REQUIRE(PollUntil([&] {
    rp = ProviderOf(placement, h);
    return !rp.empty() &&
           placement->GetInventories(rp)->inventories.size() == 3;
  }));
  REQUIRE(h.WaitServing());
  // The API wrote the rows and the scheduler claimed the allocation here,
  // but the cast never arrived (a broker restart with non-durable queues).
  capsule::Capsule c;
  c.containers = {AgentHarness::Child("a", {"sleep", "3600"})};
  c = h.CreateCapsule(c);
  Claim(placement, c.uuid(), rp);
  REQUIRE(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
  CHECK(h.CapsuleRow(c.uuid())->at("host") == h.host());
  // Another capsule without an allocation here stays as it is.
  capsule::Capsule other;
  other.containers = {AgentHarness::Child("b", {"sleep", "3600"})};
  other = h.CreateCapsule(other);
  capsule::Capsule third;
  third.containers = {AgentHarness::Child("c", {"sleep", "3600"})};
  third = h.CreateCapsule(third);
  Claim(placement, third.uuid(), rp);
  REQUIRE(PollUntil([&] { return h.StatusOf(third.uuid()) == "Running"; }));
  CHECK(h.StatusOf(other.uuid()) == "Creating");
  CHECK_FALSE(h.CapsuleRow(other.uuid())->at("host").has_value());
}

}  // namespace
}  // namespace zun::testing
