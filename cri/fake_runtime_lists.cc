// The lists of the fake runtime (FakeRuntime's members that list sandboxes
// and containers, page by page; the rest of the pod and container side is
// fake_runtime.cc).
#include "absl/strings/match.h"
#include "cri/fake_runtime.h"

namespace zun::cri::fake {

bool LabelsMatch(const Labels& have, const Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

std::vector<SandboxInfo> FakeRuntime::ListPodSandbox(
    const SandboxFilter& filter, const std::string& after, size_t limit) {
  std::vector<SandboxInfo> out;
  VisitPodSandboxes(filter, after, limit,
                    [&](const ListedSandbox& sb) { out.push_back(sb.info()); });
  return out;
}

size_t FakeRuntime::VisitPodSandboxes(
    const SandboxFilter& filter, const std::string& after, size_t limit,
    absl::FunctionRef<void(const ListedSandbox&)> visit) {
  absl::MutexLock l(&mu_);
  size_t n = 0;
  auto consider = [&](const std::string& id, Sandbox& sb) {
    if (!filter.id.empty() && !absl::StartsWith(id, filter.id)) return;
    if (filter.state && sb.info.state != *filter.state) return;
    if (!LabelsMatch(sb.info.labels, filter.labels)) return;
    auto info = [&sb] { return sb.info; };
    visit(ListedSandbox{id, sb.info.state, info, sb.list_wire});
    ++n;
  };
  if (filter.labels.empty()) {
    for (auto it = sandboxes_.upper_bound(after);
         it != sandboxes_.end() && n < limit; ++it) {
      consider(it->first, it->second);
    }
    return n;
  }
  // Only the sandboxes that carry the filter's first label, in id order.
  auto by_label = sandboxes_by_label_.find(*filter.labels.begin());
  if (by_label == sandboxes_by_label_.end()) return n;
  const std::set<std::string>& ids = by_label->second;
  for (auto it = ids.upper_bound(after); it != ids.end() && n < limit; ++it) {
    consider(*it, sandboxes_.at(*it));
  }
  return n;
}

std::vector<ContainerInfo> FakeRuntime::ListContainers(
    const ContainerFilter& filter, const std::string& after, size_t limit) {
  std::vector<ContainerInfo> out;
  VisitContainers(filter, after, limit,
                  [&](const ListedContainer& c) { out.push_back(c.info()); });
  return out;
}

size_t FakeRuntime::VisitContainers(
    const ContainerFilter& filter, const std::string& after, size_t limit,
    absl::FunctionRef<void(const ListedContainer&)> visit) {
  const int64_t now = NowNanos();
  absl::MutexLock l(&mu_);
  size_t n = 0;
  for (auto it = containers_.upper_bound(after);
       it != containers_.end() && n < limit; ++it) {
    const std::string& id = it->first;
    Container& c = it->second;
    RefreshLocked(c, now);
    if (!filter.id.empty() && !absl::StartsWith(id, filter.id)) continue;
    if (!filter.sandbox_id.empty() &&
        !absl::StartsWith(c.sandbox_id, filter.sandbox_id)) {
      continue;
    }
    if (filter.state && c.status.state != *filter.state) continue;
    if (!LabelsMatch(c.status.labels, filter.labels)) continue;
    auto info = [&id, &c] {
      return ContainerInfo{id,
                           c.sandbox_id,
                           c.status.name,
                           c.status.attempt,
                           c.status.image,
                           c.status.image_ref,
                           c.status.state,
                           c.status.created_at,
                           c.status.labels,
                           c.status.annotations};
    };
    visit(ListedContainer{id, c.status.state, info, c.list_wire});
    ++n;
  }
  return n;
}

}  // namespace zun::cri::fake
