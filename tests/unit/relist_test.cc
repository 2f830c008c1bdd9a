// capsule::Triage as a table: a capsule's rows against what the two list
// calls show -> what the reconciler does with it.
#include "capsule/relist.h"

#include <catch2/catch.hpp>

#include "capsule/labels.h"

namespace zun::capsule {
namespace {

cri::SandboxInfo Sb(const std::string& capsule, const std::string& id,
                    uint32_t attempt, cri::SandboxState state) {
  cri::SandboxInfo s;
  s.id = id;
  s.attempt = attempt;
  s.state = state;
  s.labels[std::string(kLabelCapsuleUuid)] = capsule;
  return s;
}

cri::ContainerInfo Ctr(const std::string& capsule, const std::string& child,
                       const std::string& id, const std::string& sandbox,
                       cri::ContainerState state, uint32_t attempt = 0) {
  cri::ContainerInfo c;
  c.id = id;
  c.sandbox_id = sandbox;
  c.attempt = attempt;
  c.state = state;
  c.labels[std::string(kLabelCapsuleUuid)] = capsule;
  c.labels[std::string(kLabelContainerUuid)] = child;
  return c;
}

Capsule Running() {
  Capsule c;
  c.record.uuid = "cap";
  c.record.status = "Running";
  c.record.container_id = "sb-1";
  ContainerRecord k;
  k.uuid = "c1";
  k.status = "Running";
  k.container_id = "c1-1";
  c.containers.push_back(k);
  return c;
}

// The view of full items, listed as the relist lists them.
RuntimeView ViewOf(const std::vector<cri::SandboxInfo>& sandboxes,
                   const std::vector<cri::ContainerInfo>& containers) {
  return BuildRuntimeView(cri::MakePodListing(
      sandboxes, RelistSandboxFilter("h").keep.label_keys, containers,
      RelistContainerFilter("h").keep.label_keys));
}

RuntimeView View(cri::SandboxState sb_state, cri::ContainerState c_state) {
  return ViewOf(
      {Sb("cap", "sb-0", 0, cri::SandboxState::kNotReady),
       Sb("cap", "sb-1", 1, sb_state)},
      {Ctr("cap", "c1", "c1-0", "sb-0", cri::ContainerState::kExited),
       Ctr("cap", "c1", "c1-1", "sb-1", c_state),
       Ctr("", "", "stranger", "sb-1", cri::ContainerState::kRunning)});
}

TEST_CASE("the runtime view keeps the newest sandbox and its containers") {
  RuntimeView rt =
      View(cri::SandboxState::kReady, cri::ContainerState::kRunning);
  REQUIRE(rt.sandbox.size() == 1);
  CHECK(rt.sandbox.at("cap")->id == "sb-1");
  REQUIRE(rt.container.size() == 1);
  CHECK(rt.container.at("c1")->id == "c1-1");
}

TEST_CASE("a relist lists our pods on this host, keeping the uuid labels") {
  const cri::SandboxFilter sf = RelistSandboxFilter("node-1");
  const cri::ContainerFilter cf = RelistContainerFilter("node-1");
  for (const cri::Labels* l : {&sf.labels, &cf.labels}) {
    CHECK(l->at(std::string(kLabelHost)) == "node-1");
    CHECK(l->at(std::string(kLabelManagedBy)) == kManagedByValue);
  }
  CHECK_FALSE(sf.keep.details);
  CHECK_FALSE(cf.keep.details);
  CHECK(sf.keep.label_keys.size() <= cri::kListedLabels);
  CHECK(cf.keep.label_keys.size() <= cri::kListedLabels);
}

TEST_CASE("the runtime view points into the listing it owns, moved or not") {
  RuntimeView a =
      View(cri::SandboxState::kReady, cri::ContainerState::kRunning);
  const RuntimeView b = std::move(a);
  CHECK(b.sandbox.at("cap")->id == "sb-1");
  CHECK(b.container.at("c1")->id == "c1-1");
  CHECK(b.container.at("c1")->sandbox_id == "sb-1");
  // Short strings (within std::string's inline buffer) too.
  RuntimeView s =
      ViewOf({Sb("k", "s", 0, cri::SandboxState::kReady)},
             {Ctr("k", "c", "i", "s", cri::ContainerState::kExited)});
  const RuntimeView t = std::move(s);
  CHECK(t.sandbox.at("k")->id == "s");
  CHECK(t.container.at("c")->state == cri::ContainerState::kExited);
}

TEST_CASE("a relist triages each capsule") {
  const RuntimeView up =
      View(cri::SandboxState::kReady, cri::ContainerState::kRunning);
  Capsule c = Running();
  CHECK(Triage(c, up, false) == RelistAction::kNone);
  SECTION("an exit the rows do not show is synced") {
    RuntimeView rt =
        View(cri::SandboxState::kReady, cri::ContainerState::kExited);
    CHECK(Triage(c, rt, false) == RelistAction::kSync);
    c.containers[0].status = "Restarting";
    CHECK(Triage(c, rt, true) == RelistAction::kNone);   // restart timed
    CHECK(Triage(c, rt, false) == RelistAction::kSync);  // not timed
  }
  SECTION("a sandbox that stopped behind our back is synced") {
    RuntimeView rt =
        View(cri::SandboxState::kNotReady, cri::ContainerState::kRunning);
    CHECK(Triage(c, rt, false) == RelistAction::kSync);
    c.record.status = "Stopped";  // not meant to run: nothing to do
    CHECK(Triage(c, rt, false) == RelistAction::kNone);
  }
  SECTION("a vanished sandbox is synced") {
    CHECK(Triage(c, RuntimeView{}, false) == RelistAction::kSync);
  }
  SECTION("interrupted creates and deletes are carried on") {
    c.record.task_state = "container_creating";
    CHECK(Triage(c, up, false) == RelistAction::kResume);
    c.record.task_state = "container_deleting";
    CHECK(Triage(c, up, false) == RelistAction::kDelete);
  }
  SECTION("a failed create's leftover sandbox is removed") {
    c.record.status = "Error";
    c.record.container_id.reset();
    CHECK(Triage(c, up, false) == RelistAction::kRemoveSandbox);
    CHECK(Triage(c, RuntimeView{}, false) == RelistAction::kNone);
  }
}

}  // namespace
}  // namespace zun::capsule
