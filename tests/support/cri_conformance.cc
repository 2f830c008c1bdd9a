#include "tests/support/cri_conformance.h"

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>

#include "common/uuid.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

using cri::ContainerState;

cri::PodSandboxConfig Pod(const CriTarget& t, const std::string& tag) {
  cri::PodSandboxConfig p;
  const std::string uid = NewUuid4();
  p.name = "conf-" + tag;
  p.uid = uid;
  p.namespace_ = "conformance";
  p.hostname = "conf-" + tag;
  p.log_directory = t.log_root + "/" + uid;
  p.labels = {{"zun-conformance", "yes"}, {"tag", tag}};
  if (!t.cgroup_root.empty()) p.cgroup_parent = t.cgroup_root + "/pod" + uid;
  p.seccomp = cri::SecurityProfile{};
  return p;
}

cri::ContainerConfig Ctr(const CriTarget& t, const std::string& name,
                         std::vector<std::string> command) {
  cri::ContainerConfig c;
  c.name = name;
  c.image = t.run_image;
  c.command = std::move(command);
  c.log_path = name + ".log";
  c.labels = {{"zun-conformance", "yes"}, {"ctr", name}};
  c.envs = {{"CONFORMANCE", "1"}};
  return c;
}

void Cleanup(cri::CriClient& cri, const std::string& sandbox_id) {
  CHECK(cri.StopPodSandbox(sandbox_id).ok());
  CHECK(cri.RemovePodSandbox(sandbox_id).ok());
}

void SandboxLifecycle(const CriTarget& t) {
  cri::CriClient& cri = *t.cri;
  auto v = cri.Version();
  REQUIRE(v.ok());
  CHECK(v->runtime_api_version == "v1");
  auto st = cri.Status();
  REQUIRE(st.ok());
  CHECK(st->Condition("RuntimeReady") == true);

  cri::PodSandboxConfig p = Pod(t, "life");
  auto id = cri.RunPodSandbox(p, "");
  REQUIRE(id.ok());
  auto status = cri.PodSandboxStatus(*id);
  REQUIRE(status.ok());
  CHECK(status->sandbox.state == cri::SandboxState::kReady);
  CHECK(status->sandbox.name == p.name);
  CHECK(status->sandbox.uid == p.uid);
  CHECK(status->sandbox.labels.at("tag") == "life");
  CHECK_FALSE(status->ip.empty());
  // The same metadata again: the client adopts the READY sandbox.
  auto again = cri.RunPodSandbox(p, "");
  REQUIRE(again.ok());
  CHECK(*again == *id);

  REQUIRE(cri.StopPodSandbox(*id).ok());
  CHECK(cri.PodSandboxStatus(*id)->sandbox.state ==
        cri::SandboxState::kNotReady);
  cri::SandboxFilter notready;
  notready.state = cri::SandboxState::kNotReady;
  notready.labels = {{"tag", "life"}};
  CHECK(cri.ListPodSandbox(notready)->size() == 1);
  REQUIRE(cri.RemovePodSandbox(*id).ok());
  CHECK(cri.PodSandboxStatus(*id).status().code() ==
        absl::StatusCode::kNotFound);
  // Stop and remove of a gone sandbox succeed (idempotent).
  CHECK(cri.StopPodSandbox(*id).ok());
  CHECK(cri.RemovePodSandbox(*id).ok());
}

void ContainerLifecycle(const CriTarget& t) {
  cri::CriClient& cri = *t.cri;
  cri::PodSandboxConfig p = Pod(t, "ctr");
  auto sb = cri.RunPodSandbox(p, "");
  REQUIRE(sb.ok());

  auto fail =
      cri.CreateContainer(*sb, Ctr(t, "fail", {"sh", "-c", "exit 3"}), p);
  REQUIRE(fail.ok());
  CHECK(cri.ContainerStatus(*fail)->state == ContainerState::kCreated);
  auto ok =
      cri.CreateContainer(*sb, Ctr(t, "ok", {"sh", "-c", "echo done"}), p);
  REQUIRE(ok.ok());
  auto srv = cri.CreateContainer(*sb, Ctr(t, "srv", {"sleep", "3600"}), p);
  REQUIRE(srv.ok());
  for (const auto& id : {*fail, *ok, *srv})
    REQUIRE(cri.StartContainer(id).ok());

  auto exited = [&](const std::string& id) {
    auto s = cri.ContainerStatus(id);
    return s.ok() && s->state == ContainerState::kExited;
  };
  REQUIRE(PollUntil([&] { return exited(*fail) && exited(*ok); }));
  auto f = cri.ContainerStatus(*fail);
  CHECK(f->exit_code == 3);
  CHECK(f->reason == "Error");
  CHECK(f->started_at > 0);
  CHECK(f->finished_at > 0);
  auto o = cri.ContainerStatus(*ok);
  CHECK(o->exit_code == 0);
  CHECK(o->reason == "Completed");

  auto s = cri.ContainerStatus(*srv);
  REQUIRE(s.ok());
  CHECK(s->state == ContainerState::kRunning);
  CHECK(s->labels.at("ctr") == "srv");
  CHECK(s->attempt == 0);
  auto exec = cri.ExecSync(*srv, {"echo", "hello"}, absl::Seconds(10));
  REQUIRE(exec.ok());
  CHECK(exec->stdout_data == "hello\n");
  CHECK(exec->exit_code == 0);
  auto uid = cri.ExecSync(*srv, {"id", "-u"}, absl::Seconds(10));
  REQUIRE(uid.ok());
  CHECK(uid->stdout_data == "0\n");  // the image names no user
  auto no_newline =
      cri.ExecSync(*srv, {"echo", "-n", "hello"}, absl::Seconds(10));
  REQUIRE(no_newline.ok());
  CHECK(no_newline->stdout_data == "hello");

  // Filters: by sandbox and state, by label.
  cri::ContainerFilter running;
  running.sandbox_id = *sb;
  running.state = ContainerState::kRunning;
  auto r = cri.ListContainers(running);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK(r->front().id == *srv);
  cri::ContainerFilter by_label;
  by_label.labels = {{"ctr", "fail"}};
  auto l = cri.ListContainers(by_label);
  REQUIRE(l.ok());
  REQUIRE(l->size() == 1);
  CHECK(l->front().id == *fail);
  CHECK(l->front().name == "fail");
  CHECK(l->front().labels.count("zun-conformance") == 1);
  CHECK_FALSE(l->front().image.empty());
  // A projection keeps ids, state and attempt and the labels it names.
  by_label.keep.label_keys = {"ctr", "absent"};
  by_label.keep.details = false;
  l = cri.ListContainers(by_label);
  REQUIRE(l.ok());
  REQUIRE(l->size() == 1);
  CHECK(l->front().id == *fail);
  CHECK(l->front().sandbox_id == *sb);
  CHECK(l->front().state == ContainerState::kExited);
  CHECK(l->front().created_at > 0);
  CHECK(l->front().labels == cri::Labels{{"ctr", "fail"}});
  CHECK(l->front().name.empty());
  CHECK(l->front().image.empty());
  CHECK(l->front().annotations.empty());
  cri::SandboxFilter pods;
  pods.labels = {{"tag", "ctr"}};
  pods.keep.label_keys = {"tag"};
  pods.keep.details = false;
  auto brief = cri.ListPodSandbox(pods);
  REQUIRE(brief.ok());
  REQUIRE(brief->size() == 1);
  CHECK(brief->front().id == *sb);
  CHECK(brief->front().state == cri::SandboxState::kReady);
  CHECK(brief->front().labels == cri::Labels{{"tag", "ctr"}});
  CHECK(brief->front().name.empty());
  CHECK(brief->front().uid.empty());
  pods.keep = {};
  auto full = cri.ListPodSandbox(pods);
  REQUIRE(full.ok());
  REQUIRE(full->size() == 1);
  CHECK(full->front().name == p.name);
  CHECK(full->front().uid == p.uid);
  CHECK(full->front().labels.count("zun-conformance") == 1);

  REQUIRE(cri.StopContainer(*srv, absl::Seconds(1)).ok());
  auto stopped = cri.ContainerStatus(*srv);
  CHECK(stopped->state == ContainerState::kExited);
  CHECK(stopped->exit_code == 143);  // ended by SIGTERM within the grace
  REQUIRE(cri.RemoveContainer(*srv).ok());
  CHECK(cri.ContainerStatus(*srv).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(cri.RemoveContainer(*srv).ok());                  // idempotent
  CHECK(cri.StopContainer(*srv, absl::Seconds(1)).ok());  // idempotent

  // A missing image is NOT_FOUND at create time.
  cri::ContainerConfig missing = Ctr(t, "missing", {"true"});
  missing.image = "localhost/never-built:0";
  CHECK(cri.CreateContainer(*sb, missing, p).status().code() ==
        absl::StatusCode::kNotFound);
  Cleanup(cri, *sb);
  CHECK(cri.ContainerStatus(*fail).status().code() ==
        absl::StatusCode::kNotFound);
}

void Images(const CriTarget& t) {
  cri::CriClient& cri = *t.cri;
  auto present = cri.ImageStatus(t.run_image);
  REQUIRE(present.ok());
  CHECK(present->has_value());
  auto absent = cri.ImageStatus("localhost/never-built:0");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
  REQUIRE(cri.RemoveImage(t.pull_image).ok());  // start from absent
  CHECK_FALSE(cri.ImageStatus(t.pull_image)->has_value());
  auto ref = cri.PullImage(t.pull_image, std::nullopt, nullptr);
  REQUIRE(ref.ok());
  auto pulled = cri.ImageStatus(t.pull_image);
  REQUIRE(pulled.ok());
  REQUIRE(pulled->has_value());
  CHECK((*pulled)->id == *ref);
  // A pull by tag records the tag and the manifest's digest, each in its
  // list; the digest finds the image too.
  const cri::ImageInfo& image = **pulled;
  CHECK(std::find(image.repo_tags.begin(), image.repo_tags.end(),
                  t.pull_image) != image.repo_tags.end());
  for (const std::string& tag : image.repo_tags) {
    CHECK(tag.find('@') == std::string::npos);
  }
  REQUIRE_FALSE(image.repo_digests.empty());
  const std::string by_digest = image.repo_digests.front();
  CHECK(by_digest.find("@sha256:") != std::string::npos);
  auto found = cri.ImageStatus(by_digest);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->id == *ref);
  // Two tags of one image: one image, both tags.
  auto other = cri.PullImage(t.pull_image_other_tag, std::nullopt, nullptr);
  REQUIRE(other.ok());
  CHECK(*other == *ref);
  auto both = cri.ImageStatus(t.pull_image);
  REQUIRE(both.ok());
  REQUIRE(both->has_value());
  CHECK((*both)->repo_tags.size() == 2);
  int listed = 0;
  auto images = cri.ListImages();
  REQUIRE(images.ok());
  for (const cri::ImageInfo& i : *images) listed += i.id == *ref;
  CHECK(listed == 1);
  // Removing an image removes it under every name.
  REQUIRE(cri.RemoveImage(t.pull_image).ok());
  CHECK_FALSE(cri.ImageStatus(t.pull_image)->has_value());
  CHECK_FALSE(cri.ImageStatus(t.pull_image_other_tag)->has_value());
  // A pull by digest: the digest in repo_digests, no tag.
  auto digest_ref = cri.PullImage(by_digest, std::nullopt, nullptr);
  REQUIRE(digest_ref.ok());
  auto by_d = cri.ImageStatus(by_digest);
  REQUIRE(by_d.ok());
  REQUIRE(by_d->has_value());
  CHECK((*by_d)->repo_tags.empty());
  CHECK(std::find((*by_d)->repo_digests.begin(), (*by_d)->repo_digests.end(),
                  by_digest) != (*by_d)->repo_digests.end());
  CHECK_FALSE(cri.ImageStatus(t.pull_image)->has_value());
  REQUIRE(cri.RemoveImage(by_digest).ok());
  CHECK_FALSE(cri.ImageStatus(by_digest)->has_value());
  CHECK(cri.RemoveImage(t.pull_image).ok());  // idempotent
  auto failed = cri.PullImage(t.missing_pull_image, std::nullopt, nullptr);
  CHECK_FALSE(failed.ok());
}

// The CRI log file: what the container prints, one line per line, and its
// reopening after a rotation.
void Logs(const CriTarget& t) {
  cri::CriClient& cri = *t.cri;
  cri::PodSandboxConfig p = Pod(t, "logs");
  // The runtime creates the log directory (containerd does).
  auto sb = cri.RunPodSandbox(p, "");
  REQUIRE(sb.ok());
  auto id = cri.CreateContainer(
      *sb,
      Ctr(t, "talk",
          {"sh", "-c", "echo hello world; echo oops >&2; sleep 3600"}),
      p);
  REQUIRE(id.ok());
  const std::string path = p.log_directory + "/talk.log";
  // Not running yet: nothing to reopen.
  CHECK_FALSE(cri.ReopenContainerLog(*id).ok());
  REQUIRE(cri.StartContainer(*id).ok());
  const std::regex line(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d) )"
      R"((stdout|stderr) (F|P) (.*))");
  std::map<std::string, std::string> seen;  // text -> stream
  REQUIRE(PollUntil([&] {
    // Status calls move the fake's clock-driven workload along.
    (void)cri.ContainerStatus(*id);
    seen.clear();
    std::ifstream in(path);
    std::string l;
    std::smatch m;
    while (std::getline(in, l)) {
      if (std::regex_match(l, m, line)) seen[m[5]] = m[3];
    }
    return seen.size() == 2;
  }));
  CHECK(seen["hello world"] == "stdout");
  CHECK(seen["oops"] == "stderr");
  // Rotation: the file is moved away, reopening creates it again.
  REQUIRE(std::rename(path.c_str(), (path + ".1").c_str()) == 0);
  REQUIRE(cri.ReopenContainerLog(*id).ok());
  CHECK(std::ifstream(path).good());
  REQUIRE(cri.StopContainer(*id, absl::Seconds(1)).ok());
  CHECK_FALSE(cri.ReopenContainerLog(*id).ok());
  CHECK(cri.ReopenContainerLog("no-such-container").code() ==
        absl::StatusCode::kNotFound);
  Cleanup(cri, *sb);
}

// ContainerStatus reports the config's mounts, and the resources in force
// when the runtime reports resources at all (containerd 1.6 does not).
void MountsAndResources(const CriTarget& t) {
  cri::CriClient& cri = *t.cri;
  cri::PodSandboxConfig p = Pod(t, "mounts");
  auto sb = cri.RunPodSandbox(p, "");
  REQUIRE(sb.ok());
  const std::string host = t.log_root + "/data-" + p.uid;
  REQUIRE(mkdir(host.c_str(), 0750) == 0);
  cri::ContainerConfig c = Ctr(t, "mounts", {"sleep", "3600"});
  c.mounts.push_back(
      cri::Mount{"/data", host, true, false, cri::MountPropagation::kPrivate});
  c.resources.memory_limit_in_bytes = 64 << 20;
  auto id = cri.CreateContainer(*sb, c, p);
  REQUIRE(id.ok());
  REQUIRE(cri.StartContainer(*id).ok());
  auto st = cri.ContainerStatus(*id);
  REQUIRE(st.ok());
  REQUIRE(st->mounts.size() == 1);
  CHECK(st->mounts[0].container_path == "/data");
  CHECK(st->mounts[0].host_path == host);
  CHECK(st->mounts[0].readonly);
  cri::LinuxResources more = c.resources;
  more.memory_limit_in_bytes = 128 << 20;
  REQUIRE(cri.UpdateContainerResources(*id, more).ok());
  auto updated = cri.ContainerStatus(*id);
  REQUIRE(updated.ok());
  if (updated->resources) {
    CHECK(updated->resources->memory_limit_in_bytes == 128 << 20);
  }
  // The pod's usage, with its container's.
  auto stats = cri.ListPodSandboxStats({{"tag", "mounts"}});
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 1);
  const cri::SandboxStatsInfo& pod = stats->front();
  CHECK(pod.id == *sb);
  CHECK(pod.name == p.name);
  CHECK(pod.uid == p.uid);
  CHECK(pod.labels.at("tag") == "mounts");
  CHECK(pod.timestamp > 0);
  bool has_container = false;
  for (const auto& k : pod.containers) has_container |= k.id == *id;
  CHECK(has_container);
  Cleanup(cri, *sb);
}

// Configs containerd refuses before creating anything.
void Validation(const CriTarget& t) {
  cri::CriClient& cri = *t.cri;
  cri::PodSandboxConfig group_only = Pod(t, "group-only");
  group_only.run_as_group = 1000;  // a group without a user
  auto refused = cri.RunPodSandbox(group_only, "");
  CHECK_FALSE(refused.ok());
  if (refused.ok()) Cleanup(cri, *refused);

  cri::PodSandboxConfig p = Pod(t, "valid");
  auto sb = cri.RunPodSandbox(p, "");
  REQUIRE(sb.ok());
  cri::ContainerConfig group = Ctr(t, "group", {"sleep", "3600"});
  group.run_as_group = 1000;
  CHECK_FALSE(cri.CreateContainer(*sb, group, p).ok());
  group.run_as_user = 1000;  // with a user it is fine
  auto as_user = cri.CreateContainer(*sb, group, p);
  REQUIRE(as_user.ok());
  REQUIRE(cri.StartContainer(*as_user).ok());
  auto uid = cri.ExecSync(*as_user, {"id", "-u"}, absl::Seconds(10));
  REQUIRE(uid.ok());
  CHECK(uid->stdout_data == "1000\n");

  cri::ContainerConfig privileged = Ctr(t, "priv", {"sleep", "3600"});
  privileged.privileged = true;  // the sandbox is not privileged
  CHECK_FALSE(cri.CreateContainer(*sb, privileged, p).ok());

  cri::ContainerConfig profile = Ctr(t, "profile", {"sleep", "3600"});
  profile.seccomp =
      cri::SecurityProfile{cri::SecurityProfile::Type::kLocalhost,
                           t.log_root + "/no-such-seccomp-profile.json"};
  CHECK_FALSE(cri.CreateContainer(*sb, profile, p).ok());
  Cleanup(cri, *sb);
}

}  // namespace

void RunCriConformance(const CriTarget& t) {
  REQUIRE(t.cri != nullptr);
  {
    INFO("sandbox lifecycle");
    SandboxLifecycle(t);
  }
  {
    INFO("container lifecycle");
    ContainerLifecycle(t);
  }
  {
    INFO("images");
    Images(t);
  }
  {
    INFO("config validation");
    Validation(t);
  }
  {
    INFO("log files");
    Logs(t);
  }
  {
    INFO("mounts and resources in ContainerStatus");
    MountsAndResources(t);
  }
}

}  // namespace zun::testing
