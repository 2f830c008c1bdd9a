#include "cri/pod_listing.h"

#include "absl/strings/str_cat.h"

namespace zun::cri {
namespace {

// Appends strings to one buffer and hands out views once it is complete
// (the buffer is sized first, so it never moves while views are taken).
class Packer {
 public:
  explicit Packer(size_t size) : buf_(std::make_unique<std::string>()) {
    buf_->reserve(size);
  }
  std::string_view Add(std::string_view s) {
    const size_t at = buf_->size();
    buf_->append(s);
    return std::string_view(buf_->data() + at, s.size());
  }
  std::unique_ptr<const std::string> Take() { return std::move(buf_); }

 private:
  std::unique_ptr<std::string> buf_;
};

const std::string* Find(const Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

template <typename Fn>
void ForKept(const Labels& labels, const std::vector<std::string>& keys,
             Fn&& fn) {
  for (size_t i = 0; i < keys.size() && i < kListedLabels; ++i) {
    if (const std::string* v = Find(labels, keys[i])) fn(i, *v);
  }
}

}  // namespace

absl::Status CheckListPodsArgs(const SandboxFilter& sandboxes,
                               const ContainerFilter& containers) {
  if (sandboxes.keep.label_keys.size() > kListedLabels ||
      containers.keep.label_keys.size() > kListedLabels) {
    return absl::InvalidArgumentError(
        absl::StrCat("ListPods keeps at most ", kListedLabels, " labels"));
  }
  return absl::OkStatus();
}

PodListing MakePodListing(const std::vector<SandboxInfo>& sandboxes,
                          const std::vector<std::string>& sandbox_keys,
                          const std::vector<ContainerInfo>& containers,
                          const std::vector<std::string>& container_keys) {
  size_t size = 0;
  for (const SandboxInfo& sb : sandboxes) {
    size += sb.id.size();
    ForKept(sb.labels, sandbox_keys,
            [&](size_t, const std::string& v) { size += v.size(); });
  }
  for (const ContainerInfo& c : containers) {
    size += c.id.size() + c.sandbox_id.size();
    ForKept(c.labels, container_keys,
            [&](size_t, const std::string& v) { size += v.size(); });
  }
  Packer pack(size);
  PodListing out;
  out.sandboxes.reserve(sandboxes.size());
  for (const SandboxInfo& sb : sandboxes) {
    ListedSandbox& l = out.sandboxes.emplace_back();
    l.id = pack.Add(sb.id);
    l.state = sb.state;
    l.attempt = sb.attempt;
    l.created_at = sb.created_at;
    ForKept(sb.labels, sandbox_keys,
            [&](size_t i, const std::string& v) { l.labels[i] = pack.Add(v); });
  }
  out.containers.reserve(containers.size());
  for (const ContainerInfo& c : containers) {
    ListedContainer& l = out.containers.emplace_back();
    l.id = pack.Add(c.id);
    l.sandbox_id = pack.Add(c.sandbox_id);
    l.state = c.state;
    l.attempt = c.attempt;
    l.created_at = c.created_at;
    ForKept(c.labels, container_keys,
            [&](size_t i, const std::string& v) { l.labels[i] = pack.Add(v); });
  }
  out.bytes.push_back(pack.Take());
  return out;
}

}  // namespace zun::cri
