// Resource usage in the fake runtime (FakeRuntime's stats members): a
// running container is charged 1% of a core and 4 MiB; a pod is its
// containers plus the pause process, with an idle eth0.
#include "absl/strings/str_cat.h"
#include "cri/fake_runtime.h"

namespace zun::cri::fake {

absl::StatusOr<ContainerStatsInfo> FakeRuntime::ContainerStats(
    const std::string& id) {
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  Container* c = FindContainerLocked(id);
  if (c == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("container \"", id, "\" not found"));
  }
  RefreshLocked(*c, now);
  ContainerStatsInfo s;
  s.id = c->status.id;
  s.name = c->status.name;
  s.labels = c->status.labels;
  s.timestamp = now;
  const int64_t end = c->status.finished_at ? c->status.finished_at : now;
  s.cpu_usage_core_nanoseconds =
      c->status.started_at
          ? static_cast<uint64_t>((end - c->status.started_at) / 100)
          : 0;
  s.memory_working_set_bytes = 4 << 20;
  return s;
}

std::vector<ContainerStatsInfo> FakeRuntime::ListContainerStats(
    const Labels& labels) {
  std::vector<std::string> ids;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, c] : containers_) {
      if (LabelsMatch(c.status.labels, labels)) ids.push_back(id);
    }
  }
  std::vector<ContainerStatsInfo> out;
  for (const auto& id : ids) {
    absl::StatusOr<ContainerStatsInfo> s = ContainerStats(id);
    if (s.ok()) out.push_back(*std::move(s));
  }
  return out;
}

std::vector<SandboxStatsInfo> FakeRuntime::ListPodSandboxStats(
    const std::string& id, const Labels& labels) {
  std::vector<std::pair<std::string, std::vector<std::string>>> pods;
  std::vector<SandboxStatsInfo> out;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [sid, sb] : sandboxes_) {
      if ((!id.empty() && sid != id) || !LabelsMatch(sb.info.labels, labels)) {
        continue;
      }
      SandboxStatsInfo st;
      st.id = sid;
      st.name = sb.info.name;
      st.uid = sb.info.uid;
      st.namespace_ = sb.info.namespace_;
      st.labels = sb.info.labels;
      st.annotations = sb.info.annotations;
      if (sb.info.state == SandboxState::kReady) {
        st.interface_name = "eth0";
        st.process_count = 1;  // pause
      }
      out.push_back(std::move(st));
      pods.emplace_back(sid, std::vector<std::string>(sb.containers.begin(),
                                                      sb.containers.end()));
    }
  }
  const int64_t now = NowNanos();
  for (size_t i = 0; i < out.size(); ++i) {
    SandboxStatsInfo& st = out[i];
    st.timestamp = now;
    for (const std::string& cid : pods[i].second) {
      absl::StatusOr<ContainerStatsInfo> c = ContainerStats(cid);
      if (!c.ok()) continue;
      st.cpu_usage_core_nanoseconds += c->cpu_usage_core_nanoseconds;
      st.memory_working_set_bytes += c->memory_working_set_bytes;
      st.containers.push_back(*std::move(c));
    }
    st.process_count += st.containers.size();
  }
  return out;
}

}  // namespace zun::cri::fake
