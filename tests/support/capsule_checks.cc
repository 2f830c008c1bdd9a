#include "tests/support/capsule_checks.h"

#include <catch2/catch.hpp>
#include <string>

#include "capsule/labels.h"

namespace zun::testing {

void CheckCreatedOnce(AgentHarness& h, const capsule::Capsule& c) {
  CAPTURE(c.uuid());
  cri::SandboxFilter f;
  f.labels = {{std::string(capsule::kLabelCapsuleUuid), c.uuid()}};
  auto sandboxes = h.cri().ListPodSandbox(f);
  REQUIRE(sandboxes.ok());
  CHECK(sandboxes->size() == 1);
  auto events = h.db().Query(
      "SELECT e.id FROM container_actions_events e JOIN container_actions a "
      "ON e.action_id = a.id WHERE a.container_uuid = '" +
      c.uuid() + "' AND a.action = 'create'");
  CHECK(events.size() == 1);
}

}  // namespace zun::testing
