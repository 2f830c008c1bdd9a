// The fake CRI runtime behaves like containerd 1.6 (the conformance suite
// against both lives with the CRI tests); these check its state machine and
// scripts on simulated time.
#include "cri/fake_runtime.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>

#include "cri/fake_cri_client.h"
#include "tests/support/test_env.h"

namespace zun::cri::fake {
namespace {

PodSandboxConfig Pod(const std::string& name) {
  PodSandboxConfig p;
  p.name = name;
  p.uid = name;
  p.namespace_ = "default";
  p.labels = {{"owner", "test"}};
  return p;
}

ContainerConfig Ctr(const std::string& name, const std::string& script) {
  ContainerConfig c;
  c.name = name;
  c.image = "localhost/pause:3.6";
  c.annotations = {{"fake-cri/script", script}};
  return c;
}

TEST_CASE("sandbox and container lifecycle with scripted exits") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  auto sb = rt.RunPodSandbox(Pod("p1"), "");
  REQUIRE(sb.ok());
  auto id = rt.CreateContainer(*sb, Ctr("c1", "exit=3 after=2s"));
  REQUIRE(id.ok());
  CHECK(rt.ContainerStatus(*id)->state == ContainerState::kCreated);
  REQUIRE(rt.StartContainer(*id).ok());
  CHECK(rt.ContainerStatus(*id)->state == ContainerState::kRunning);
  clock.AdvanceTime(absl::Seconds(2));
  auto st = rt.ContainerStatus(*id);
  CHECK(st->state == ContainerState::kExited);
  CHECK(st->exit_code == 3);
  CHECK(st->reason == "Error");
  auto oom = rt.CreateContainer(*sb, Ctr("c2", "oom after=1s"));
  REQUIRE(rt.StartContainer(*oom).ok());
  clock.AdvanceTime(absl::Seconds(1));
  CHECK(rt.ContainerStatus(*oom)->reason == "OOMKilled");
  CHECK(rt.ContainerStatus(*oom)->exit_code == 137);
  REQUIRE(rt.StopPodSandbox(*sb).ok());
  CHECK(rt.PodSandboxStatus(*sb)->sandbox.state == SandboxState::kNotReady);
  REQUIRE(rt.RemovePodSandbox(*sb).ok());
  CHECK(rt.NumSandboxes() == 0);
  CHECK(rt.NumContainers() == 0);
}

TEST_CASE("pod IPs come from a loopback range by default, or a given CIDR") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  for (int i = 0; i < 300; ++i) {
    auto sb = rt.RunPodSandbox(Pod("p" + std::to_string(i)), "");
    REQUIRE(sb.ok());
    const std::string ip = rt.PodSandboxStatus(*sb)->ip;
    // 127.0.0.0/8 never routes off the machine.
    REQUIRE(ip.rfind("127.88.", 0) == 0);
  }
  FakeRuntimeOptions small;
  small.pod_cidr = "127.90.7.0/29";  // hosts .2 to .6, then around again
  FakeRuntime rt2(clock, small);
  std::vector<std::string> ips;
  for (int i = 0; i < 6; ++i) {
    auto sb = rt2.RunPodSandbox(Pod("q" + std::to_string(i)), "");
    REQUIRE(sb.ok());
    ips.push_back(rt2.PodSandboxStatus(*sb)->ip);
  }
  CHECK(ips == std::vector<std::string>{"127.90.7.2", "127.90.7.3",
                                        "127.90.7.4", "127.90.7.5",
                                        "127.90.7.6", "127.90.7.2"});
  CHECK(PodAddressRange::Parse("127.88.0.0/16").ok());
  for (const char* bad : {"10.88.", "127.88.0.0", "127.88.0.0/31",
                          "127.88.0.0/7", "300.1.1.1/16", "::1/64"}) {
    CHECK(PodAddressRange::Parse(bad).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE(
    "an image config's user: ImageStatus reports it, containers run as it") {
  SimulatedClock clock;
  FakeRuntimeOptions o;
  o.image_users[FakeRuntime::NormalizeRepository("app-uid")] = "1002";
  o.image_users[FakeRuntime::NormalizeRepository("127.0.0.1:5000/named")] =
      "www-data";
  FakeRuntime rt(clock, o);
  REQUIRE(rt.PullImage("app-uid:1", nullptr).ok());
  REQUIRE(rt.PullImage("127.0.0.1:5000/named:2", nullptr).ok());
  const ImageInfo uid = rt.ImageStatus("docker.io/library/app-uid:1");
  CHECK(uid.uid == 1002);
  CHECK(uid.username.empty());
  const ImageInfo named = rt.ImageStatus("127.0.0.1:5000/named:2");
  CHECK_FALSE(named.uid.has_value());
  CHECK(named.username == "www-data");
  CHECK_FALSE(rt.ImageStatus("localhost/pause:3.6").uid.has_value());

  auto sb = rt.RunPodSandbox(Pod("u"), "");
  REQUIRE(sb.ok());
  ContainerConfig c = Ctr("c", "");
  c.image = "app-uid:1";
  auto id = rt.CreateContainer(*sb, c);
  REQUIRE(id.ok());
  REQUIRE(rt.StartContainer(*id).ok());
  CHECK(rt.ExecSync(*id, {"id", "-u"})->stdout_data == "1002\n");
  c.name = "as-root";
  c.run_as_user = 0;  // the config's user wins over the image's
  auto root = rt.CreateContainer(*sb, c);
  REQUIRE(root.ok());
  REQUIRE(rt.StartContainer(*root).ok());
  CHECK(rt.ExecSync(*root, {"id", "-un"})->stdout_data == "root\n");
  c.name = "named";
  c.image = "127.0.0.1:5000/named:2";
  c.run_as_user.reset();
  auto www = rt.CreateContainer(*sb, c);
  REQUIRE(www.ok());
  REQUIRE(rt.StartContainer(*www).ok());
  CHECK(rt.ExecSync(*www, {"id", "-un"})->stdout_data == "www-data\n");
}

TEST_CASE("images: tags and digests of one repository name one image") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  auto a = rt.PullImage("127.0.0.1:5000/t:1", nullptr);
  auto b = rt.PullImage("127.0.0.1:5000/t:2", nullptr);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  const ImageInfo i = rt.ImageStatus("127.0.0.1:5000/t:2");
  CHECK(i.repo_tags ==
        std::vector<std::string>{"127.0.0.1:5000/t:1", "127.0.0.1:5000/t:2"});
  REQUIRE(i.repo_digests.size() == 1);
  CHECK(rt.ImageStatus(i.repo_digests[0]).id == *a);
  CHECK(rt.ImageStatus(*a).id == *a);  // by id
  int listed = 0;
  for (const ImageInfo& x : rt.ListImages()) listed += x.id == *a;
  CHECK(listed == 1);
  REQUIRE(rt.RemoveImage("127.0.0.1:5000/t:1").ok());
  CHECK(rt.ImageStatus("127.0.0.1:5000/t:2").id.empty());
  CHECK(rt.ImageStatus(i.repo_digests[0]).id.empty());
  // By digest: no tag.
  REQUIRE(rt.PullImage(i.repo_digests[0], nullptr).ok());
  const ImageInfo d = rt.ImageStatus(i.repo_digests[0]);
  CHECK(d.repo_tags.empty());
  CHECK(d.repo_digests == std::vector<std::string>{i.repo_digests[0]});
  CHECK(rt.ImageStatus("127.0.0.1:5000/t:1").id.empty());
}

TEST_CASE("containerd's raw answers, normalised by the client") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  CHECK(rt.StopPodSandbox("nope").code() == absl::StatusCode::kNotFound);
  CHECK(rt.RemovePodSandbox("nope").ok());
  CHECK(rt.ImageStatus("docker.io/library/nope:1").id.empty());
  auto sb = rt.RunPodSandbox(Pod("p"), "");
  REQUIRE(sb.ok());
  auto dup = rt.RunPodSandbox(Pod("p"), "");
  CHECK(dup.status().code() == absl::StatusCode::kUnknown);
  CHECK_THAT(std::string(dup.status().message()),
             Catch::Contains("failed to reserve sandbox name"));
  CHECK(rt.CreateContainer(*sb, Ctr("x", "")).ok());
  ContainerConfig missing = Ctr("y", "");
  missing.image = "never-pulled:1";
  CHECK(rt.CreateContainer(*sb, missing).status().code() ==
        absl::StatusCode::kNotFound);

  FakeCriClient client(rt);
  CHECK(client.StopPodSandbox("nope").ok());
  CHECK_FALSE(client.ImageStatus("nope:1")->has_value());
  // The client adopts the READY sandbox holding the name.
  auto adopted = client.RunPodSandbox(Pod("p"), "");
  REQUIRE(adopted.ok());
  CHECK(*adopted == *sb);
}

TEST_CASE("the fake client trims listed items to the filter's projection") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  PodSandboxConfig pod = Pod("proj");
  pod.labels["kept"] = "k";
  auto sb = rt.RunPodSandbox(pod, "");
  REQUIRE(sb.ok());
  ContainerConfig ctr = Ctr("c", "");
  ctr.labels = {{"kept", "k"}, {"dropped", "d"}};
  auto id = rt.CreateContainer(*sb, ctr);
  REQUIRE(id.ok());
  FakeCriClient client(rt);

  ContainerFilter cf;
  cf.keep.label_keys = {"kept"};
  cf.keep.details = false;
  auto cs = client.ListContainers(cf);
  REQUIRE(cs.ok());
  REQUIRE(cs->size() == 1);
  CHECK(cs->front().id == *id);
  CHECK(cs->front().sandbox_id == *sb);
  CHECK(cs->front().state == ContainerState::kCreated);
  CHECK(cs->front().labels == Labels{{"kept", "k"}});
  CHECK(cs->front().name.empty());
  CHECK(cs->front().image.empty());
  CHECK(cs->front().annotations.empty());
  cf.keep.details = true;
  cs = client.ListContainers(cf);
  REQUIRE(cs.ok());
  CHECK(cs->front().name == "c");
  CHECK(cs->front().labels.size() == 1);
  CHECK(cs->front().annotations.size() == 1);

  SandboxFilter sf;
  sf.keep.label_keys = {"kept", "absent"};
  sf.keep.details = false;
  auto pods = client.ListPodSandbox(sf);
  REQUIRE(pods.ok());
  REQUIRE(pods->size() == 1);
  CHECK(pods->front().id == *sb);
  CHECK(pods->front().labels == Labels{{"kept", "k"}});
  CHECK(pods->front().name.empty());
  CHECK(pods->front().namespace_.empty());
  auto all = client.ListPodSandbox(SandboxFilter{});
  REQUIRE(all.ok());
  CHECK(all->front().labels.size() == 2);
  CHECK(all->front().name == "proj");
}

TEST_CASE("images: normalised references, pull failures by name") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  auto ref = rt.PullImage("busybox", nullptr);
  REQUIRE(ref.ok());
  CHECK(rt.ImageStatus("docker.io/library/busybox:latest").id == *ref);
  CHECK(rt.PullImage("registry.example/pull-fail:1", nullptr).status().code() ==
        absl::StatusCode::kUnknown);
  CHECK(rt.PullCount("busybox:latest") == 1);
  AuthConfig auth;
  auth.username = "u";
  REQUIRE(rt.PullImage("private.example/app:1", &auth).ok());
  CHECK(rt.LastPullAuth("private.example/app:1")->username == "u");
}

TEST_CASE("same seed, same ids") {
  SimulatedClock c1, c2;
  FakeRuntime a(c1, FakeRuntimeOptions{});
  FakeRuntime b(c2, FakeRuntimeOptions{});
  CHECK(*a.RunPodSandbox(Pod("p"), "") == *b.RunPodSandbox(Pod("p"), ""));
}

}  // namespace
}  // namespace zun::cri::fake

namespace zun::cri::fake {
namespace {

TEST_CASE("the fake holds thousands of pods") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  for (int i = 0; i < 3000; ++i) {
    PodSandboxConfig p = Pod("p" + std::to_string(i));
    p.labels["group"] = std::to_string(i % 3);
    auto sb = rt.RunPodSandbox(p, "");
    REQUIRE(sb.ok());
    ContainerConfig c = Ctr("c", "");
    c.labels = {{"group", std::to_string(i % 3)}};
    auto id = rt.CreateContainer(*sb, c);
    REQUIRE(id.ok());
    REQUIRE(rt.StartContainer(*id).ok());
  }
  SandboxFilter f;
  f.labels = {{"group", "1"}};
  CHECK(rt.ListPodSandbox(f).size() == 1000);
  ContainerFilter cf;
  cf.state = ContainerState::kRunning;
  CHECK(rt.ListContainers(cf).size() == 3000);
}

// Takes every page of `list` (a FakeRuntime list by `after` and `limit`),
// calling `between` after each page; returns the ids in the order listed.
template <class List>
std::vector<std::string> Paged(List list, size_t limit,
                               const std::function<void()>& between) {
  std::vector<std::string> ids;
  std::string after;
  for (;;) {
    const auto page = list(after, limit);
    for (const auto& item : page) ids.push_back(item.id);
    between();
    if (page.size() < limit) return ids;
    after = page.back().id;
  }
}

TEST_CASE("a list is taken page by page, in id order, each item once") {
  SimulatedClock clock;
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  std::vector<std::string> pods, ctrs;
  for (int i = 0; i < 10; ++i) {
    pods.push_back(*rt.RunPodSandbox(Pod("p" + std::to_string(i)), ""));
    ctrs.push_back(*rt.CreateContainer(pods.back(), Ctr("c", "")));
  }
  std::sort(pods.begin(), pods.end());
  std::sort(ctrs.begin(), ctrs.end());
  SandboxFilter by_label;
  by_label.labels = {{"owner", "test"}};
  for (const SandboxFilter& f : {SandboxFilter{}, by_label}) {
    CHECK(Paged([&](const std::string& after,
                    size_t n) { return rt.ListPodSandbox(f, after, n); },
                3, [] {}) == pods);
    CHECK(Paged([&](const std::string& after,
                    size_t n) { return rt.ListPodSandbox(f, after, n); },
                5, [] {}) == pods);  // the last page is empty
  }
  CHECK(Paged([&](const std::string& after,
                  size_t n) { return rt.ListContainers({}, after, n); },
              4, [] {}) == ctrs);
  // The runtime changes between pages: what is gone is not listed, nothing
  // is listed twice, and what stayed is listed once.
  int page = 0;
  const std::vector<std::string> listed =
      Paged([&](const std::string& after,
                size_t n) { return rt.ListContainers({}, after, n); },
            4,
            [&] {
              if (++page == 1) {
                REQUIRE(rt.RemoveContainer(ctrs[9]).ok());
                REQUIRE(rt.RemoveContainer(ctrs[0]).ok());
              }
            });
  CHECK(listed == std::vector<std::string>(ctrs.begin(), ctrs.end() - 1));
}

TEST_CASE("what a workload echoes goes to its CRI log file, line by line") {
  ContainerConfig talk;
  talk.command = {"sh", "-c",
                  "echo -n 'part'; echo 'b  c' >&2 && sleep 2; echo d; exit 1"};
  const Script s = *ScriptOf(talk);
  REQUIRE(s.output.size() == 3);
  CHECK(s.output[0].text == "part");
  CHECK_FALSE(s.output[0].newline);
  CHECK(s.output[1].text == "b  c");
  CHECK(s.output[1].to_stderr);
  CHECK(s.output[2].at == absl::Seconds(2));
  CHECK(*s.exit_after == absl::Seconds(2));

  SimulatedClock clock(absl::FromUnixSeconds(1767225600));  // 2026-01-01
  FakeRuntime rt(clock, FakeRuntimeOptions{});
  zun::testing::ScopedTempDir dir("zfl");
  PodSandboxConfig p = Pod("logs");
  p.log_directory = dir.path() + "/pod";  // created by the runtime
  auto sb = rt.RunPodSandbox(p, "");
  REQUIRE(sb.ok());
  ContainerConfig c = Ctr("talk", "");
  c.annotations.clear();
  c.command = talk.command;
  c.log_path = "talk/0.log";
  auto id = rt.CreateContainer(*sb, c);
  REQUIRE(id.ok());
  REQUIRE(rt.StartContainer(*id).ok());
  auto lines = [&] {
    std::vector<std::string> out;
    std::ifstream in(p.log_directory + "/talk/0.log");
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  };
  CHECK(lines() ==
        std::vector<std::string>{"2026-01-01T00:00:00Z stdout P part",
                                 "2026-01-01T00:00:00Z stderr F b  c"});
  clock.AdvanceTime(absl::Milliseconds(2500));
  CHECK(rt.ContainerStatus(*id)->state == ContainerState::kExited);
  REQUIRE(lines().size() == 3);
  CHECK(lines()[2] == "2026-01-01T00:00:02Z stdout F d");
  CHECK_FALSE(rt.ReopenContainerLog(*id).ok());  // exited
}

TEST_CASE("container behaviour is read from its command line") {
  auto of = [](std::vector<std::string> cmd) {
    ContainerConfig c;
    c.command = std::move(cmd);
    return *ScriptOf(c);
  };
  Script exit3 = of({"sh", "-c", "echo hi; sleep 2; exit 3"});
  REQUIRE(exit3.exit_after.has_value());
  CHECK(*exit3.exit_after == absl::Seconds(2));
  CHECK(exit3.exit_code == 3);
  CHECK(*of({"sleep", "5"}).exit_after == absl::Seconds(5));
  CHECK(of({"true"}).exit_code == 0);
  CHECK(of({"false"}).exit_code == 1);
  CHECK_FALSE(of({"nginx", "-g", "daemon off;"}).exit_after.has_value());
  CHECK_FALSE(
      of({"sh", "-c", "while true; do sleep 1; done"}).exit_after.has_value());
  CHECK_FALSE(of({"sleep", "infinity"}).exit_after.has_value());
  ContainerConfig scripted;
  scripted.command = {"sleep", "1"};
  scripted.envs = {{"FAKE_CRI_SCRIPT", "oom after=3s"}};
  Script oom = *ScriptOf(scripted);
  CHECK(oom.oom);
  CHECK(*oom.exit_after == absl::Seconds(3));
  CHECK_FALSE(ParseScript("bogus").ok());
}

}  // namespace
}  // namespace zun::cri::fake
