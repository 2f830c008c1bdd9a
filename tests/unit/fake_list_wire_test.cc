// fake-cri's list answers carry each item's fixed fields encoded once and
// its current state: parsed, they must equal the answer a generated
// serialiser makes from the runtime's items, before and after the states
// change.
#include "cri/fake_list_wire.h"

#include <catch2/catch.hpp>

#include "cri/convert.h"
#include "google/protobuf/util/message_differencer.h"

namespace zun::cri::fake {
namespace {

namespace pb = ::runtime::v1;
using google::protobuf::util::MessageDifferencer;

// What the answer to `filter` reads as, once sent and parsed.
template <class Resp, class Filter, class Fill>
Resp Sent(FakeRuntime& rt, const Filter& filter, Fill fill) {
  Resp built;
  fill(rt, filter, &built);
  Resp parsed;
  REQUIRE(parsed.ParseFromString(built.SerializeAsString()));
  return parsed;
}

pb::ListPodSandboxResponse Pods(FakeRuntime& rt, const SandboxFilter& f) {
  return Sent<pb::ListPodSandboxResponse>(rt, f, ListPodSandboxInto);
}

pb::ListContainersResponse Ctrs(FakeRuntime& rt, const ContainerFilter& f) {
  return Sent<pb::ListContainersResponse>(rt, f, ListContainersInto);
}

// The answers a generated serialiser makes from the runtime's own lists.
pb::ListPodSandboxResponse WantPods(FakeRuntime& rt, const SandboxFilter& f) {
  pb::ListPodSandboxResponse want;
  for (const SandboxInfo& sb : rt.ListPodSandbox(f)) {
    internal::ToProto(sb, want.add_items());
  }
  return want;
}

pb::ListContainersResponse WantCtrs(FakeRuntime& rt, const ContainerFilter& f) {
  pb::ListContainersResponse want;
  for (const ContainerInfo& c : rt.ListContainers(f)) {
    internal::ToProto(c, want.add_containers());
  }
  return want;
}

TEST_CASE("list answers match the runtime's items as their states change") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  std::vector<std::string> pods, ctrs;
  for (int i = 0; i < 150; ++i) {  // more than two pages
    PodSandboxConfig p;
    p.name = "p" + std::to_string(i);
    p.uid = "uid-" + std::to_string(i);
    p.namespace_ = "default";
    p.attempt = static_cast<uint32_t>(i % 3);
    p.labels = {{"owner", "test"}, {"group", std::to_string(i % 2)}};
    p.annotations = {{"note", std::string(static_cast<size_t>(i), 'x')}};
    pods.push_back(*rt.RunPodSandbox(p, "runc"));
    ContainerConfig c;
    c.name = "c";
    c.attempt = 1;
    c.image = "localhost/pause:3.6";
    c.labels = {{"group", std::to_string(i % 2)}};
    c.annotations = {{"fake-cri/script", "exit=0 after=5s"}};
    ctrs.push_back(*rt.CreateContainer(pods.back(), c));
  }
  SandboxFilter by_label;
  by_label.labels = {{"group", "1"}};
  SandboxFilter notready;
  notready.state = SandboxState::kNotReady;
  ContainerFilter running;
  running.state = ContainerState::kRunning;
  ContainerFilter ctr_label;
  ctr_label.labels = {{"group", "0"}};
  auto check_all = [&] {
    for (const SandboxFilter& f : {SandboxFilter{}, by_label, notready}) {
      const pb::ListPodSandboxResponse got = Pods(rt, f);
      CHECK(got.items_size() == WantPods(rt, f).items_size());
      CHECK(MessageDifferencer::Equals(got, WantPods(rt, f)));
    }
    for (const ContainerFilter& f : {ContainerFilter{}, running, ctr_label}) {
      const pb::ListContainersResponse got = Ctrs(rt, f);
      CHECK(got.containers_size() == WantCtrs(rt, f).containers_size());
      CHECK(MessageDifferencer::Equals(got, WantCtrs(rt, f)));
    }
  };
  check_all();  // every item encoded, all created and ready
  CHECK(Pods(rt, {}).items_size() == 150);
  CHECK(Pods(rt, notready).items_size() == 0);

  // The states change after the items were encoded: the answers follow.
  for (int i = 0; i < 150; i += 2) REQUIRE(rt.StartContainer(ctrs[i]).ok());
  for (int i = 0; i < 150; i += 5) REQUIRE(rt.StopPodSandbox(pods[i]).ok());
  check_all();
  CHECK(Pods(rt, notready).items_size() == 30);
  clock.AdvanceTime(absl::Seconds(5));  // the running ones exit
  check_all();
  CHECK(Ctrs(rt, running).containers_size() == 0);
  // Removed items are gone from the answers.
  REQUIRE(rt.RemovePodSandbox(pods[0]).ok());
  check_all();
  CHECK(Pods(rt, {}).items_size() == 149);
  CHECK(Ctrs(rt, {}).containers_size() == 149);
}

}  // namespace
}  // namespace zun::cri::fake
